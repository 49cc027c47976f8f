// Learning-rate schedules as functions of the (1-based) epoch.
import type { Optimizer } from './optimizer.js';

export type EpochSchedule = (epoch: number) => number;

/** [[untilEpoch, lr], ...]: lr applies up to and including untilEpoch; the last value holds after. */
export function piecewiseByEpoch(pieces: [number, number][]): EpochSchedule {
  if (pieces.length === 0) throw new Error('piecewiseByEpoch: needs at least one [untilEpoch, lr] piece');
  return (epoch) => (pieces.find(([until]) => epoch <= until) ?? pieces[pieces.length - 1]!)[1];
}

/** PyTorch's MultiStepLR: lr * gamma^(number of milestones <= epoch - 1), epochs counted from 1. */
export function multiStep(lr: number, milestones: number[], gamma = 0.1): EpochSchedule {
  return (epoch) => lr * gamma ** milestones.filter((m) => m <= epoch - 1).length;
}

/** PyTorch's CosineAnnealingLR (closed form) over `epochs`, epoch 1 at the full lr. */
export function cosineAnnealing(lr: number, epochs: number, minLr = 0): EpochSchedule {
  return (epoch) => minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(epoch - 1, epochs)) / epochs))) / 2;
}

/** Linear warm-up from lr/warmupEpochs to lr over the first epochs, then `after`. */
export function withLinearWarmup(after: EpochSchedule, warmupEpochs: number, lr: number): EpochSchedule {
  return (epoch) => (epoch <= warmupEpochs ? (lr * epoch) / warmupEpochs : after(epoch));
}

export function setLearningRate(optimizer: Optimizer, lr: number): void {
  for (const g of optimizer.paramGroups) (g.options as { lr: number }).lr = lr;
}
