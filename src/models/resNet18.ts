// The CIFAR ResNet-18 used as D2R's guidance model (the LBGAT/D2R reference
// variant): BasicBlocks with stages at strides 1, 1, 2, 2, so a 32x32 input
// ends in an 8x8 map that is average-pooled with kernel 8.
import { type Tensor } from '../engine/tensor.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { type Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d } from '../nn/batchnorm2d.js';
import { ImageClassifier, type ClassifierOptions } from './imageClassifier.js';
import { conv1x1, conv3x3, globalAveragePool, stage } from './layers.js';

/** conv-bn-relu-conv-bn plus the shortcut (1x1 conv + bn where the shape changes), then relu. */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly shortcut: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inPlanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    const changesShape = stride !== 1 || inPlanes !== planes;
    this.shortcut = changesShape
      ? this.registerModule('shortcut', new Sequential(conv1x1(inPlanes, planes, stride), new BatchNorm2d(planes)))
      : null;
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
    return out.add(this.shortcut === null ? x : this.shortcut.forward(x)).relu();
  }
}

export class ResNet18 extends ImageClassifier {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Sequential[];
  readonly linear: Linear;

  constructor({ numClasses = 10, inChannels = 3, normalize }: ClassifierOptions = {}) {
    super(inChannels, normalize);
    const block = (i: number, o: number, s: number): Module => new BasicBlock(i, o, s);
    this.conv1 = this.registerModule('conv1', conv3x3(inChannels, 64));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.layers = [
      this.registerModule('layer1', stage(block, 2, 64, 64, 1)),
      this.registerModule('layer2', stage(block, 2, 64, 128, 1)),
      this.registerModule('layer3', stage(block, 2, 128, 256, 2)),
      this.registerModule('layer4', stage(block, 2, 256, 512, 2)),
    ];
    this.linear = this.registerModule('linear', new Linear(512, numClasses));
  }

  protected logits(x: Tensor): Tensor {
    let out = this.bn1.forward(this.conv1.forward(x)).relu();
    for (const layer of this.layers) out = layer.forward(out);
    return this.linear.forward(globalAveragePool(out, 8));
  }
}

export const resNet18 = (options: ClassifierOptions = {}): ResNet18 => new ResNet18(options);
