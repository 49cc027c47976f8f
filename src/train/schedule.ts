// The learning rate of each epoch, from the run configuration.
import type { TrainConfig } from './config.js';
import { cosineAnnealing, multiStep, withLinearWarmup, type EpochSchedule } from '../optim/schedules.js';
import { referenceLearningRate } from '../methods/defaults.js';

/**
 * 'reference' is D2R's recipe, stated for 100 epochs (epoch 1: lr/5; 2..75: lr;
 * 76..90: lr/10; 91..100: lr/100) and scaled proportionally to --epochs.
 */
export function scheduleFor(config: TrainConfig): EpochSchedule {
  const { lr, epochs } = config;
  let schedule: EpochSchedule;
  switch (config.schedule) {
    case 'reference':
      // The reference table is stated for its own peak lr (0.1); scale it to --lr.
      schedule = (epoch) => referenceLearningRate(epoch, epochs) * (lr / 0.1);
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

export function learningRateAt(config: TrainConfig, epoch: number): number {
  return scheduleFor(config)(epoch);
}
