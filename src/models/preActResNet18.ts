// Pre-activation ResNet-18 (He et al. 2016) in the layout used by the
// adversarial-training literature (Rice et al., TRADES-AWP, ...).
import { type Tensor } from '../engine/tensor.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { type Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d } from '../nn/batchnorm2d.js';
import { ImageClassifier, type ClassifierOptions } from './imageClassifier.js';
import { conv1x1, conv3x3, globalAveragePool, stage } from './layers.js';

/** bn-relu-conv twice; the shortcut (a 1x1 conv where the shape changes) taps relu(bn1(x)). */
export class PreActBlock extends Module {
  readonly bn1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inPlanes));
    this.conv1 = this.registerModule('conv1', conv3x3(inPlanes, planes, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    const changesShape = stride !== 1 || inPlanes !== planes;
    this.shortcut = changesShape ? this.registerModule('shortcut', new Sequential(conv1x1(inPlanes, planes, stride))) : null;
  }

  forward(x: Tensor): Tensor {
    const activated = this.bn1.forward(x).relu();
    const shortcut = this.shortcut === null ? x : this.shortcut.forward(activated);
    const out = this.conv2.forward(this.bn2.forward(this.conv1.forward(activated)).relu());
    return out.add(shortcut);
  }
}

export class PreActResNet18 extends ImageClassifier {
  readonly conv1: Conv2d;
  readonly layers: Sequential[];
  readonly bn: BatchNorm2d;
  readonly linear: Linear;

  constructor({ numClasses = 10, inChannels = 3, normalize }: ClassifierOptions = {}) {
    super(inChannels, normalize);
    const block = (i: number, o: number, s: number): Module => new PreActBlock(i, o, s);
    this.conv1 = this.registerModule('conv1', conv3x3(inChannels, 64));
    this.layers = [
      this.registerModule('layer1', stage(block, 2, 64, 64, 1)),
      this.registerModule('layer2', stage(block, 2, 64, 128, 2)),
      this.registerModule('layer3', stage(block, 2, 128, 256, 2)),
      this.registerModule('layer4', stage(block, 2, 256, 512, 2)),
    ];
    this.bn = this.registerModule('bn', new BatchNorm2d(512));
    this.linear = this.registerModule('linear', new Linear(512, numClasses));
  }

  protected logits(x: Tensor): Tensor {
    let out = this.conv1.forward(x);
    for (const layer of this.layers) out = layer.forward(out);
    // 32x32 inputs end in a 4x4 map: F.avg_pool2d(out, 4) as in the reference.
    return this.linear.forward(globalAveragePool(this.bn.forward(out).relu(), 4));
  }
}

export const preActResNet18 = (options: ClassifierOptions = {}): PreActResNet18 => new PreActResNet18(options);
