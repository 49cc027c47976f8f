// Fully connected layer y = x W^T + b.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';
import { defaultLayerInit_ } from './init.js';

export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    { bias = true }: { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', torch.empty([outFeatures, inFeatures]));
    this.bias = bias ? this.registerParameter('bias', torch.empty([outFeatures])) : null;
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: Tensor): Tensor {
    return torch.linear(x, this.weight, this.bias);
  }
}
