// The learning rate of each epoch, from the run configuration.
import type { TrainConfig } from './config.js';
import { cosineAnnealing, multiStep, withLinearWarmup, type EpochSchedule } from '../optim/schedules.js';
import { recipeFor, recipeLearningRate } from '../methods/defaults.js';

/**
 * 'reference' is the recipe's step table (src/methods/defaults.ts) at --lr,
 * scaled proportionally to --epochs; 'short' is the same table without its
 * reduced first epoch.
 */
export function scheduleFor(config: TrainConfig): EpochSchedule {
  const { lr, epochs } = config;
  let schedule: EpochSchedule;
  switch (config.schedule) {
    case 'reference':
    case 'short': {
      const recipe = recipeFor(config.method, config.recipe);
      const reducedFirstEpoch = config.schedule === 'reference';
      schedule = (epoch) => recipeLearningRate(recipe, epoch, epochs, lr, reducedFirstEpoch);
      break;
    }
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

export function learningRateAt(config: TrainConfig, epoch: number): number {
  return scheduleFor(config)(epoch);
}

/** One step of a run's learning-rate schedule: epochs `from`..`to` (1-based, inclusive) at `lr`. */
export interface ScheduleStep {
  from: number;
  to: number;
  lr: number;
}

/** The learning rate of every epoch of the run, equal neighbours merged into steps. */
export function scheduleSteps(config: TrainConfig): ScheduleStep[] {
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
