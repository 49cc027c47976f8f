// The learning rate of each epoch, from the run configuration.
import type { TrainConfig } from './config.js';
import { cosineAnnealing, epochAt, multiStep, withLinearWarmup, type EpochSchedule } from '../optim/schedules.js';
import { SHORT_RUN_WARMUP, recipeFor, recipeLearningRate } from '../methods/defaults.js';

/**
 * The short-run schedule over the run's share done t (0 to 1): a linear
 * warm-up from 0 to lr over the first `warmup` of the batches, then a cosine
 * decay to 0 at the end. Per batch: a short run has too few batches for
 * per-epoch steps, and plain lr from the first batch stalls or diverges
 * (docs/results/short-runs.md).
 */
export function warmupCosine(lr: number, epochs: number, warmup = SHORT_RUN_WARMUP): EpochSchedule {
  return (epoch) => {
    const t = Math.min(Math.max((epoch - 1) / epochs, 0), 1);
    if (t < warmup) return (lr * t) / warmup;
    return (lr * (1 + Math.cos((Math.PI * (t - warmup)) / (1 - warmup)))) / 2;
  };
}

/** The settings a run's learning-rate schedule is made of. */
export type ScheduleSettings = Pick<
  TrainConfig,
  'method' | 'recipe' | 'schedule' | 'lr' | 'epochs' | 'milestones' | 'gamma' | 'warmupEpochs'
>;

/** Whether the schedule moves the lr within an epoch (the trainer then sets it every batch). */
export function changesEveryBatch(config: ScheduleSettings): boolean {
  return config.schedule === 'short';
}

/**
 * The lr of batch `batchIndex` (from 0) of `batches` in `epoch`: the schedule
 * at the middle of the batch's share of the epoch for a per-batch schedule,
 * else the epoch's lr.
 */
export function learningRateOfBatch(config: ScheduleSettings, epoch: number, batchIndex: number, batches: number): number {
  return changesEveryBatch(config) ? scheduleFor(config)(epochAt(epoch, batchIndex + 0.5, batches)) : learningRateAt(config, epoch);
}

/**
 * 'reference' is the recipe's step table (src/methods/defaults.ts) at --lr,
 * scaled proportionally to --epochs; 'short' is a per-batch warm-up then
 * cosine decay (warmupCosine).
 */
export function scheduleFor(config: ScheduleSettings): EpochSchedule {
  const { lr, epochs } = config;
  let schedule: EpochSchedule;
  switch (config.schedule) {
    case 'reference': {
      const recipe = recipeFor(config.method, config.recipe);
      schedule = (epoch) => recipeLearningRate(recipe, epoch, epochs, lr);
      break;
    }
    case 'short':
      schedule = warmupCosine(lr, epochs);
      break;
    case 'multistep':
      schedule = multiStep(lr, config.milestones, config.gamma);
      break;
    case 'cosine':
      schedule = cosineAnnealing(lr, epochs);
      break;
    case 'constant':
      schedule = () => lr;
      break;
  }
  return config.warmupEpochs > 0 ? withLinearWarmup(schedule, config.warmupEpochs, lr) : schedule;
}

export function learningRateAt(config: ScheduleSettings, epoch: number): number {
  return scheduleFor(config)(epoch);
}

/**
 * One step of a run's learning-rate schedule: epochs `from`..`to` (1-based,
 * inclusive) at `lr`, or, for a per-batch schedule, peaking at `lr` in the
 * shape `perBatch` says.
 */
export interface ScheduleStep {
  from: number;
  to: number;
  lr: number;
  perBatch?: string;
}

/** The learning rate of every epoch of the run, equal neighbours merged into steps. */
export function scheduleSteps(config: ScheduleSettings): ScheduleStep[] {
  if (changesEveryBatch(config)) {
    const warmup = `${Number((100 * SHORT_RUN_WARMUP).toPrecision(6))}%`;
    const perBatch = `set every batch: linear warm-up from 0 over the first ${warmup} of the batches, then cosine decay to 0 at the end`;
    return [{ from: 1, to: config.epochs, lr: config.lr, perBatch }];
  }
  const schedule = scheduleFor(config);
  const steps: ScheduleStep[] = [];
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const lr = schedule(epoch);
    const last = steps[steps.length - 1];
    if (last && last.lr === lr) last.to = epoch;
    else steps.push({ from: epoch, to: epoch, lr });
  }
  return steps;
}

/**
 * The most steps of the short schedule measured safe for an adversarial method at the short-run
 * defaults' lr per image: two epochs of the full Fashion-MNIST set at batch 16 (7,500 steps) learnt;
 * four (15,000) learnt no more and cost MART a quarter of its convolution units; eight (30,000)
 * collapsed MART and cost TRADES units (docs/results/short-runs.md).
 */
export const SHORT_RUN_MEASURED_STEPS = 7500;
/** The recipe's lr per image (0.01 at batch 128): no unit was lost at it over the full set. */
const RECIPE_LR_PER_IMAGE = 0.01 / 128;

/**
 * Why an adversarial run under the short schedule may lose its units, or null: more steps than
 * were measured safe at an lr per image above the recipe's.
 */
export function shortRunHazard(
  config: Pick<TrainConfig, 'method' | 'schedule' | 'epochs' | 'lr' | 'batchSize'>,
  batchesPerEpoch: number,
): string | null {
  const steps = config.epochs * batchesPerEpoch;
  if (config.schedule !== 'short' || config.method === 'standard') return null;
  if (steps <= SHORT_RUN_MEASURED_STEPS || config.lr / config.batchSize <= RECIPE_LR_PER_IMAGE) return null;
  return (
    `${config.method} under the short schedule for ${steps} steps at lr ${config.lr}, batch ${config.batchSize}: ` +
    `at lr 0.02, batch 16 adversarial methods were measured to learn over ${SHORT_RUN_MEASURED_STEPS} steps; over 15,000 MART learned no more ` +
    `and lost a quarter of its convolution units, over 30,000 it collapsed and TRADES lost units (docs/results/short-runs.md); ` +
    `a recipe (shared or reference: batch 128, the per-epoch table) or a lower lr is safer`
  );
}
