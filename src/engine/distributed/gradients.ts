// Data-parallel training on plain tensor lists, as PyTorch's DistributedDataParallel
// does it: rank 0's parameters and buffers to every rank at the start, and after
// each backward the gradients averaged over ranks in flat buckets (one allreduce
// per bucket, not per parameter).
import type { Tensor } from '../tensor.js';
import { bytesPerElement } from '../dtype.js';
import { DistributedOptionError, collective } from './errors.js';
import { native } from '../native.js';

/** DDP's default bucket_cap_mb. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/**
 * Splits tensors into buckets of one dtype and at most `bucketBytes` each (a
 * tensor larger than that gets a bucket of its own), in reverse order: DDP
 * buckets the last layers first, whose gradients backward computes first.
 */
export function bucketsOf(tensors: readonly Tensor[], bucketBytes: number): Tensor[][] {
  const open = new Map<string, { tensors: Tensor[]; bytes: number }>();
  const buckets: Tensor[][] = [];
  for (const t of [...tensors].reverse()) {
    const bytes = t.numel * bytesPerElement[t.dtype];
    let bucket = open.get(t.dtype);
    if (bucket && bucket.bytes + bytes > bucketBytes) {
      buckets.push(bucket.tensors);
      bucket = undefined;
    }
    bucket ??= { tensors: [], bytes: 0 };
    bucket.tensors.push(t);
    bucket.bytes += bytes;
    open.set(t.dtype, bucket);
  }
  for (const bucket of open.values()) buckets.push(bucket.tensors);
  return buckets;
}

export class GradientAverager {
  /** The parameters that take part (those that require grad), bucket by bucket. */
  readonly buckets: readonly Tensor[][];
  private readonly bucketBytes: number;

  /**
   * `parameters`: every parameter of every model trained together (for D2R,
   * target and guidance), in the same order on every rank.
   */
  constructor(parameters: readonly Tensor[], opts: { bucketBytes?: number } = {}) {
    this.bucketBytes = opts.bucketBytes ?? DEFAULT_BUCKET_BYTES;
    if (!(this.bucketBytes > 0) || !Number.isFinite(this.bucketBytes)) {
      throw new DistributedOptionError('bucketBytes', 'a positive number of bytes', String(opts.bucketBytes));
    }
    this.buckets = bucketsOf(
      parameters.filter((p) => p.requiresGrad),
      this.bucketBytes,
    );
  }

  /** Gives every rank rank 0's values of `tensors` (parameters and buffers), in flat buckets. */
  broadcastFromRank0(tensors: readonly Tensor[]): void {
    for (const bucket of bucketsOf(tensors, this.bucketBytes)) {
      collective(() =>
        native.distBroadcastFlat_(
          bucket.map((t) => t.handle),
          0,
        ),
      );
    }
  }

  /**
   * After backward on every rank: each parameter's gradient becomes the mean of
   * its gradients over ranks. A parameter without a gradient on a rank counts as
   * zeros there (and receives the mean); one that no rank gave a gradient keeps
   * none, as DDP leaves parameters that no rank used.
   */
  averageGradients(): void {
    for (const bucket of this.buckets) collective(() => native.distAverageGradients_(bucket.map((p) => p.handle)));
  }
}
