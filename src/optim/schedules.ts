// Learning-rate schedules: pure functions of the epoch, counted from 1.
//
// Per-iteration schedules use fractional epochs: iteration i (from 0) of n in
// epoch e is epochAt(e, i, n) = e + i / n. Step schedules (piecewise,
// multi-step) change only where an epoch starts; cosine annealing and the
// warm-up ramp move smoothly within an epoch.
import type { Optimizer } from './optimizer.js';

export type EpochSchedule = (epoch: number) => number;

/** The fractional epoch of iteration `iteration` (from 0) of `iterationsPerEpoch` in `epoch` (from 1). */
export function epochAt(epoch: number, iteration: number, iterationsPerEpoch: number): number {
  return epoch + iteration / iterationsPerEpoch;
}

/**
 * values[0] before epoch boundaries[0], values[k] from epoch boundaries[k - 1]
 * on (inclusive); boundaries are non-decreasing and one fewer than values.
 */
export function piecewiseConstant(boundaries: number[], values: number[]): EpochSchedule {
  if (values.length !== boundaries.length + 1) {
    throw new Error(
      `piecewiseConstant: needs one more value than boundaries, got ${boundaries.length} boundaries and ${values.length} values`,
    );
  }
  if (boundaries.some((b, i) => !Number.isFinite(b) || (i > 0 && b < boundaries[i - 1]!))) {
    throw new Error(`piecewiseConstant: boundaries must be non-decreasing numbers, got [${boundaries}]`);
  }
  return (epoch) => {
    const whole = Math.floor(epoch);
    let k = 0;
    while (k < boundaries.length && boundaries[k]! <= whole) k++;
    return values[k]!;
  };
}

/**
 * [[untilEpoch, lr], ...]: each lr applies up to and including its untilEpoch;
 * the last lr also holds after its epoch. E.g. [[1, 0.02], [75, 0.1], [90, 0.01], [100, 0.001]].
 */
export function piecewiseByEpoch(pieces: [untilEpoch: number, lr: number][]): EpochSchedule {
  if (pieces.length === 0) throw new Error('piecewiseByEpoch: needs at least one [untilEpoch, lr] piece');
  return piecewiseConstant(
    pieces.slice(0, -1).map(([until]) => until + 1),
    pieces.map(([, lr]) => lr),
  );
}

/**
 * PyTorch's MultiStepLR: lr * gamma^(number of milestones already passed), where
 * milestone m counts from the (m + 1)-th epoch on (m scheduler steps have happened).
 */
export function multiStep(lr: number, milestones: number[], gamma = 0.1): EpochSchedule {
  const sorted = [...milestones].sort((a, b) => a - b);
  return piecewiseConstant(
    sorted.map((m) => m + 1),
    [lr, ...sorted.map((_, k) => lr * gamma ** (k + 1))],
  );
}

/**
 * PyTorch's CosineAnnealingLR with T_max = epochs (closed form): epoch 1 at lr,
 * reaching minLr after `epochs` epochs and staying there.
 */
export function cosineAnnealing(lr: number, epochs: number, minLr = 0): EpochSchedule {
  if (!(epochs > 0)) throw new Error(`cosineAnnealing: epochs must be > 0, got ${epochs}`);
  return (epoch) => {
    const elapsed = Math.min(Math.max(epoch - 1, 0), epochs);
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * elapsed) / epochs))) / 2;
  };
}

/**
 * A linear ramp over the first `warmupEpochs` epochs (epoch k at lr * k / warmupEpochs,
 * smoothly within epochs for fractional epochs), then `after`. `lr` defaults to
 * the value `after` takes right after the warm-up, so the ramp joins it.
 */
export function withLinearWarmup(after: EpochSchedule, warmupEpochs: number, lr = after(warmupEpochs + 1)): EpochSchedule {
  if (!(warmupEpochs >= 0)) throw new Error(`withLinearWarmup: warmupEpochs must be >= 0, got ${warmupEpochs}`);
  if (warmupEpochs === 0) return after;
  return (epoch) => (epoch < warmupEpochs + 1 ? (lr * Math.min(epoch, warmupEpochs)) / warmupEpochs : after(epoch));
}

/** Sets the learning rate of every parameter group. */
export function setLearningRate(optimizer: Optimizer, lr: number): void {
  if (!(lr >= 0 && Number.isFinite(lr))) throw new Error(`setLearningRate: lr must be a finite number >= 0, got ${lr}`);
  for (const g of optimizer.paramGroups) g.options['lr'] = lr;
}
