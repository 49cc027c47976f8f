// WideResNet (Zagoruyko & Komodakis) as defined by TRADES and RobustBench,
// including TRADES' unused `sub_block1`, which its checkpoints contain.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from '../nn/module.js';
import { type Sequential } from '../nn/sequential.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d } from '../nn/batchnorm2d.js';
import { normal_, zeros_ } from '../nn/init.js';
import { ImageClassifier, type ClassifierOptions } from './imageClassifier.js';
import { conv1x1, conv3x3, globalAveragePool, stage } from './layers.js';

/** Pre-activation block; where in != out the activated input also feeds the 1x1 `convShortcut`. */
export class WideBasicBlock extends Module {
  readonly bn1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly convShortcut: Conv2d | null;

  constructor(
    inPlanes: number,
    outPlanes: number,
    stride: number,
    readonly dropRate = 0,
  ) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inPlanes));
    this.conv1 = this.registerModule('conv1', conv3x3(inPlanes, outPlanes, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outPlanes));
    this.conv2 = this.registerModule('conv2', conv3x3(outPlanes, outPlanes));
    this.convShortcut = inPlanes === outPlanes ? null : this.registerModule('convShortcut', conv1x1(inPlanes, outPlanes, stride));
  }

  forward(x: Tensor): Tensor {
    const activated = this.bn1.forward(x).relu();
    let out = this.bn2.forward(this.conv1.forward(activated)).relu();
    if (this.dropRate > 0) out = torch.dropout(out, this.dropRate, this.training);
    out = this.conv2.forward(out);
    return out.add(this.convShortcut === null ? x : this.convShortcut.forward(activated));
  }
}

/** A group of blocks, kept under the key `layer` as in the reference. */
export class NetworkBlock extends Module {
  readonly layer: Sequential;

  constructor(count: number, inPlanes: number, outPlanes: number, stride: number, dropRate: number) {
    super();
    this.layer = this.registerModule(
      'layer',
      stage((i, o, s) => new WideBasicBlock(i, o, s, dropRate), count, inPlanes, outPlanes, stride),
    );
  }

  forward(x: Tensor): Tensor {
    return this.layer.forward(x);
  }
}

export interface WideResNetOptions extends ClassifierOptions {
  /** 6n + 4 layers (34 for WRN-34-10). */
  depth?: number;
  widenFactor?: number;
  dropRate?: number;
  /**
   * TRADES' unused `sub_block1` (default true: the TRADES, D2R and LBGAT checkpoints
   * have it); RobustBench's WideResNet leaves it out (its `sub_block1=False`).
   */
  subBlock1?: boolean;
}

export class WideResNet extends ImageClassifier {
  readonly conv1: Conv2d;
  readonly block1: NetworkBlock;
  /** Created but unused in forward, exactly as TRADES does; present so its checkpoints load. */
  readonly subBlock1: NetworkBlock | null;
  readonly block2: NetworkBlock;
  readonly block3: NetworkBlock;
  readonly bn1: BatchNorm2d;
  readonly fc: Linear;

  constructor({
    depth = 34,
    widenFactor = 10,
    numClasses = 10,
    inChannels = 3,
    dropRate = 0,
    subBlock1 = true,
    normalize,
  }: WideResNetOptions = {}) {
    super(inChannels, normalize);
    if ((depth - 4) % 6 !== 0 || depth < 10) throw new Error(`wideResNet: depth must be 6n + 4 with n >= 1, got ${depth}`);
    const n = (depth - 4) / 6;
    const channels = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor] as const;
    this.conv1 = this.registerModule('conv1', conv3x3(inChannels, channels[0]));
    this.block1 = this.registerModule('block1', new NetworkBlock(n, channels[0], channels[1], 1, dropRate));
    this.subBlock1 = subBlock1 ? this.registerModule('sub_block1', new NetworkBlock(n, channels[0], channels[1], 1, dropRate)) : null;
    this.block2 = this.registerModule('block2', new NetworkBlock(n, channels[1], channels[2], 2, dropRate));
    this.block3 = this.registerModule('block3', new NetworkBlock(n, channels[2], channels[3], 2, dropRate));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(channels[3]));
    this.fc = this.registerModule('fc', new Linear(channels[3], numClasses));
    // Reference init: conv N(0, sqrt(2 / (k*k*out))), BatchNorm 1/0 (its default), linear bias 0.
    this.apply((m) => {
      if (m instanceof Conv2d) normal_(m.weight, 0, Math.sqrt(2 / (m.kernelSize[0] * m.kernelSize[1] * m.outChannels)));
      else if (m instanceof Linear && m.bias !== null) zeros_(m.bias);
    });
  }

  protected logits(x: Tensor): Tensor {
    let out = this.conv1.forward(x);
    out = this.block3.forward(this.block2.forward(this.block1.forward(out)));
    // 32x32 inputs end in an 8x8 map: F.avg_pool2d(out, 8) as in the reference.
    return this.fc.forward(globalAveragePool(this.bn1.forward(out).relu(), 8));
  }
}

export const wideResNet = (options: WideResNetOptions = {}): WideResNet => new WideResNet(options);
