// 2-d convolution over [N, C, H, W] inputs.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import { defaultLayerInit_ } from './init.js';

export type Pair = torch.Pair;
const pair = torch.pair;

export interface Conv2dOptions extends torch.Conv2dOptions {
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true }: Conv2dOptions = {},
  ) {
    super();
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`);
    }
    this.kernelSize = pair(kernelSize);
    this.stride = pair(stride);
    this.padding = pair(padding);
    this.dilation = pair(dilation);
    this.groups = groups;
    this.weight = this.registerParameter('weight', torch.empty([outChannels, inChannels / groups, ...this.kernelSize]));
    this.bias = bias ? this.registerParameter('bias', torch.empty([outChannels])) : null;
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return torch.conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}
