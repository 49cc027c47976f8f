// 2-d pooling layers over [N, C, H, W] inputs.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';
import type { Pair } from './conv2d.js';

/** Stride defaults to the kernel size. */
export interface MaxPool2dOptions extends torch.PoolOptions {
  dilation?: Pair;
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: MaxPool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return torch.maxPool2d(x, this.kernelSize, this.options);
  }
}

/** Stride defaults to the kernel size. */
export interface AvgPool2dOptions extends torch.PoolOptions {
  countIncludePad?: boolean;
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: AvgPool2dOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return torch.avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Averages over regions sized so the output is outputSize, whatever the input size. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }

  forward(x: Tensor): Tensor {
    return torch.adaptiveAvgPool2d(x, this.outputSize);
  }
}
