// Mini-batches over a Dataset, one pass per epoch. The order and the
// augmentation come from SeededRandom streams keyed by (seed, epoch[, batch]),
// so epoch k always yields the same batches for a given seed: a resumed run
// repeats an unbroken one without saving any loader state. A shard (one rank
// of a data-parallel run) serves its contiguous part of each global batch,
// augmented with the draws the whole batch would get, so N shards together see
// exactly the batches one unsharded loader serves.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Dataset } from './imageDataset.js';
import { applyTransforms, drawTransforms, type AugmentOptions } from './augment.js';
import { SeededRandom } from './seededRandom.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Seed of the order and augmentation streams (default 0). */
  seed?: number;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  augment?: AugmentOptions;
  /** Use only the first `limit` examples of the dataset. */
  limit?: number;
  /** Serve only this rank's part of each batch (data-parallel training); default the whole batch. */
  shard?: Shard;
}

/** One of `count` ranks; rank r gets rows [floor(r*b/count), floor((r+1)*b/count)) of a batch of b rows. */
export interface Shard {
  rank: number;
  count: number;
}

export interface Batch {
  /** float32 [B, C, H, W] in [0, 1], augmented when the loader augments. */
  x: Tensor;
  /** int64 [B]. */
  y: Tensor;
  /** The dataset rows in this batch, in batch order. */
  indices: number[];
  /** The rows of the whole batch this one is a shard of (indices.length when unsharded). */
  globalSize: number;
}

// Distinct stream ids keep the order and the augmentation draws independent.
const ORDER_STREAM = 1;
const AUGMENT_STREAM = 2;

export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly augment: AugmentOptions | undefined;
  readonly shard: Shard;
  /** The number of examples one epoch draws from. */
  readonly size: number;
  private nextEpoch = 0;

  constructor(dataset: Dataset, o: DataLoaderOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize <= 0)
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${o.batchSize}`);
    if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit > 0))
      throw new Error(`DataLoader: limit must be a positive integer, got ${o.limit}`);
    const seed = o.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`DataLoader: seed must be a non-negative integer, got ${seed}`);
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle ?? false;
    this.seed = seed;
    this.dropLast = o.dropLast ?? false;
    this.augment = o.augment && (o.augment.randomCrop || o.augment.horizontalFlip) ? o.augment : undefined;
    this.size = Math.min(dataset.size, o.limit ?? Infinity);
    this.shard = o.shard ?? { rank: 0, count: 1 };
    const { rank, count } = this.shard;
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(rank) || rank < 0 || rank >= count)
      throw new Error(`DataLoader: shard must be a rank in 0..count-1 of a positive count, got ${JSON.stringify(o.shard)}`);
  }

  /** The smallest batch of an epoch (the last one, when the size is not a multiple of the batch size). */
  get smallestBatch(): number {
    const rest = this.size % this.batchSize;
    return this.dropLast || rest === 0 ? Math.min(this.batchSize, this.size) : rest;
  }

  /** The number of batches per epoch. */
  get length(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** The dataset rows of an epoch in the order they are served (before dropLast). */
  order(epoch: number): number[] {
    const rows = Array.from({ length: this.size }, (_, i) => i);
    return this.shuffle ? new SeededRandom(this.seed, epoch, ORDER_STREAM).shuffle(rows) : rows;
  }

  /** The rows of batch `index` of an epoch. */
  private batchRows(order: number[], index: number): number[] {
    return order.slice(index * this.batchSize, (index + 1) * this.batchSize);
  }

  /** One batch of an epoch; its tensors belong to the caller's tidy scope. */
  batch(epoch: number, index: number, order = this.order(epoch)): Batch {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new Error(`DataLoader: batch ${index} is outside 0..${this.length - 1}`);
    const rows = this.batchRows(order, index);
    const { rank, count } = this.shard;
    const [from, to] = [Math.floor((rank * rows.length) / count), Math.floor(((rank + 1) * rows.length) / count)];
    const indices = rows.slice(from, to);
    return torch.tidy(() => {
      const { x, y } = this.dataset.rows(indices);
      if (!this.augment) return { x, y, indices, globalSize: rows.length };
      const random = new SeededRandom(this.seed, epoch, index, AUGMENT_STREAM);
      const transforms = drawTransforms(rows.length, [x.shape[2]!, x.shape[3]!], this.augment, random).slice(from, to);
      return { x: applyTransforms(x, transforms, this.augment), y, indices, globalSize: rows.length };
    });
  }

  /** The batches of one epoch; the same (seed, epoch) always gives the same batches. */
  *epoch(epoch: number): Generator<Batch> {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`DataLoader: epoch must be a non-negative integer, got ${epoch}`);
    const order = this.order(epoch);
    for (let index = 0; index < this.length; index++) yield this.batch(epoch, index, order);
  }

  /** Iterating the loader itself runs epochs 0, 1, 2, ... one per for-of loop. */
  [Symbol.iterator](): Iterator<Batch> {
    return this.epoch(this.nextEpoch++);
  }
}
