// Batch normalisation over the channels of [N, C, H, W] inputs, with
// PyTorch's running statistics and num_batches_tracked bookkeeping; optionally
// synchronised over the ranks of a data-parallel run (docs/distributed.md).
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import * as distributed from '../engine/distributed/index.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null averages all batches so far equally. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
  /**
   * In training, normalise with the statistics of the global batch (every
   * rank's part) as PyTorch's SyncBatchNorm; on one process, those of its
   * batch (plain batch norm, computed the same way). Default: false (per-rank
   * statistics, as DDP).
   */
  sync?: boolean;
}

export class BatchNorm2d extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  /** Whether training uses the global batch's statistics (see BatchNorm2dOptions.sync; convertSyncBatchNorm sets it). */
  sync: boolean;

  constructor(
    readonly numFeatures: number,
    { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, sync = false }: BatchNorm2dOptions = {},
  ) {
    super();
    this.sync = sync;
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
    if (this.sync && this.training) return this.forwardSynchronized(x);
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

  /**
   * Training over every rank's part of the batch: the per-channel sum, sum of
   * squares and count of this rank, summed over ranks in one differentiable
   * allreduce (its backward sums the gradients over ranks), give the global
   * mean and biased variance to normalise with; the running variance takes
   * the unbiased one, as PyTorch. Every rank gets the same statistics, so the
   * running averages stay equal on every rank. One process computes the same
   * sums without the allreduce, so N processes give what one gives.
   */
  private forwardSynchronized(x: Tensor): Tensor {
    const channels = this.numFeatures;
    const [n, c, h, w] = x.shape as [number, number, number, number];
    if (c !== channels) throw new Error(`BatchNorm2d: expected ${channels} channels, got input of shape [${x.shape}]`);
    // In float64: E[x^2] - E[x]^2 cancels, and in float32 its rounding (1e-7 of
    // E[x^2]) is large next to eps for a nearly constant channel.
    const wide = x.double();
    const local = torch.cat([
      wide.sum([0, 2, 3]),
      wide.square().sum([0, 2, 3]),
      torch.full([1], n * h * w, { dtype: 'float64', device: x.device }),
    ]);
    const global = distributed.worldSize() > 1 ? distributed.differentiableAllReduce(local) : local;
    const count = global.narrow(0, 2 * channels, 1).item() as number;
    if (count <= 1) throw new Error(`BatchNorm2d: expected more than 1 value per channel when training, got ${count} over all ranks`);
    const wideMean = global.narrow(0, 0, channels).div(count);
    // It can come out a rounding below 0 for a constant channel.
    const wideVariance = global.narrow(0, channels, channels).div(count).sub(wideMean.square()).clamp(0);
    const [mean, variance] = [wideMean.to(x.dtype), wideVariance.to(x.dtype)];
    const factor = this.averagingFactor();
    if (this.runningMean !== null && this.runningVar !== null) {
      torch.noGrad(() => {
        this.runningMean!.lerp_(mean.detach(), factor);
        this.runningVar!.lerp_(variance.detach().mul(count / (count - 1)), factor);
      });
    }
    let scale = variance.add(this.eps).rsqrt();
    if (this.weight !== null) scale = scale.mul(this.weight);
    const shift = this.bias !== null ? this.bias.sub(mean.mul(scale)) : mean.mul(scale).neg();
    return x.mul(scale.view([1, channels, 1, 1])).add(shift.view([1, channels, 1, 1]));
  }
}

/**
 * Turns synchronised batch norm on (or off) in every BatchNorm2d of `module`,
 * as PyTorch's SyncBatchNorm.convert_sync_batchnorm; returns how many it set.
 */
export function convertSyncBatchNorm(module: Module, sync = true): number {
  let count = 0;
  for (const m of module.modules()) {
    if (m instanceof BatchNorm2d) {
      m.sync = sync;
      count++;
    }
  }
  return count;
}
