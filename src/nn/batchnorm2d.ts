// Batch normalisation over the channels of [N, C, H, W] inputs, with
// PyTorch's running statistics and num_batches_tracked bookkeeping.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null averages all batches so far equally. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

export class BatchNorm2d extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;

  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }: BatchNorm2dOptions = {},
  ) {
    super();
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? this.registerParameter('weight', torch.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', torch.zeros([numFeatures])) : null;
    this.runningMean = trackRunningStats ? this.registerBuffer('running_mean', torch.zeros([numFeatures])) : null;
    this.runningVar = trackRunningStats ? this.registerBuffer('running_var', torch.ones([numFeatures])) : null;
    this.numBatchesTracked = trackRunningStats ? this.registerBuffer('num_batches_tracked', torch.zeros([], { dtype: 'int64' })) : null;
  }

  /** The weight of this batch in the running averages (PyTorch's exponential_average_factor). */
  private averagingFactor(): number {
    if (!this.training || this.numBatchesTracked === null) return this.momentum ?? 0;
    torch.noGrad(() => this.numBatchesTracked!.add_(1));
    return this.momentum ?? 1 / this.numBatchesTracked.item();
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected a 4-d input [N, C, H, W], got shape [${x.shape}]`);
    // Without running statistics the batch statistics are used in eval mode too.
    const useBatchStats = this.training || this.runningMean === null;
    return torch.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: this.averagingFactor(),
      eps: this.eps,
    });
  }
}
