// The trainer's side of data-parallel training (docs/run-files.md, "Data-parallel
// runs"): which rank this process is, how a global batch and the evaluation
// points split across ranks, what the ranks agree on, and each rank's own
// random stream. On one process every function here is the identity, so a
// 1-process run is exactly what it was before data-parallel training existed.
import * as torch from '../engine/torch.js';
import * as distributed from '../engine/distributed/index.js';
import { OptionError } from '../io/errors.js';
import { SeededRandom, type Dataset } from '../data/index.js';
import { convertSyncBatchNorm, type Module } from '../nn/index.js';

export interface Ranks {
  rank: number;
  worldSize: number;
}

/** This process's place in the process group; rank 0 of 1 when there is no group. */
export function processRanks(): Ranks {
  return distributed.isInitialized() ? { rank: distributed.rank(), worldSize: distributed.worldSize() } : { rank: 0, worldSize: 1 };
}

/**
 * Refuses a global batch that does not split evenly over the processes, or an
 * epoch whose last batch leaves a process without images.
 */
export function checkBatchSplit(batchSize: number, trainImages: number | null, worldSize: number): void {
  if (worldSize === 1) return;
  if (batchSize % worldSize !== 0)
    throw new OptionError(
      'batchSize',
      `a multiple of the ${worldSize} processes (it is the global batch, split evenly)`,
      String(batchSize),
    );
  const last = trainImages === null ? 0 : trainImages % batchSize;
  if (last > 0 && last < worldSize)
    throw new OptionError(
      'batchSize',
      `a size that leaves each of the ${worldSize} processes an image of every batch`,
      `${batchSize}, whose last batch of the ${trainImages} training images has ${last}`,
    );
}

/** Element-wise sums of `values` over all ranks (in float64); the values themselves on one process. */
export function sumOverRanks(values: number[], ranks: Ranks): number[] {
  if (ranks.worldSize === 1) return values;
  return torch.tidy(() => {
    const t = torch.tensor(Float64Array.from(values), [values.length]);
    distributed.allReduce(t, 'sum');
    return t.toNumbers();
  });
}

/** Whether any rank asks for `flag` (every rank gets the same answer, so all stop at the same batch). */
export function anyRank(flag: boolean, ranks: Ranks): boolean {
  return sumOverRanks([flag ? 1 : 0], ranks)[0]! > 0;
}

const RANK_STREAM = 3;

/**
 * Seeds libtorch's stream of a rank other than 0 for an epoch (attack random
 * starts, dropout), so ranks draw differently and a resumed run draws as an
 * unbroken one. Rank 0 keeps the run's own stream, which its checkpoints save.
 */
export function seedRankStream(seed: number, epoch: number, ranks: Ranks): void {
  if (ranks.rank !== 0) torch.manualSeed(new SeededRandom(seed, epoch, ranks.rank, RANK_STREAM).nextUint32());
}

/** This rank's contiguous part of the evaluation points (as the loader splits a batch). */
export function evaluationShard(set: Dataset, ranks: Ranks): Dataset {
  const from = Math.floor((ranks.rank * set.size) / ranks.worldSize);
  const to = Math.floor(((ranks.rank + 1) * set.size) / ranks.worldSize);
  return {
    name: set.name,
    split: set.split,
    numClasses: set.numClasses,
    classNames: set.classNames,
    inputShape: set.inputShape,
    size: to - from,
    images: torch.keep(set.images.narrow(0, from, to - from)),
    labels: torch.keep(set.labels.narrow(0, from, to - from)),
    rows: (indices) => set.rows(indices.map((i) => i + from)),
  };
}

/**
 * Synchronised batch norm (setting syncBn) in every BatchNorm2d of the models;
 * a note when they have none, so the setting changes nothing. On one process
 * the layers stay plain batch norm.
 */
export function syncBatchNorm(models: Module[]): string | null {
  const layers = models.reduce((n, m) => n + convertSyncBatchNorm(m), 0);
  return layers === 0 ? 'syncBn: the models have no batch norm layer to synchronise; it changes nothing' : null;
}
