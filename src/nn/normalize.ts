// Per-channel (x - mean) / std, so models can take inputs in [0, 1]. The
// constants are non-persistent buffers: they move with to(device) but stay out
// of the state dict, keeping checkpoints' keys PyTorch's.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';

export interface NormalizeOptions {
  mean: number[];
  std: number[];
}

export class Normalize extends Module {
  readonly mean: Tensor;
  readonly std: Tensor;

  constructor({ mean, std }: NormalizeOptions) {
    super();
    if (mean.length !== std.length || mean.length === 0) {
      throw new Error(`Normalize: mean and std need one value per channel, got ${mean.length} and ${std.length}`);
    }
    if (std.some((s) => !(s > 0))) throw new Error(`Normalize: std must be positive, got [${std}]`);
    this.mean = this.registerBuffer('mean', torch.tensor(mean, [1, mean.length, 1, 1]), false);
    this.std = this.registerBuffer('std', torch.tensor(std, [1, std.length, 1, 1]), false);
  }

  forward(x: Tensor): Tensor {
    return torch.tidy(() => x.sub(this.mean).div(this.std));
  }
}
