// The learning rate of each epoch, from the run configuration.
import type { TrainConfig } from './config.js';
import { cosineAnnealing, multiStep, piecewiseByEpoch, withLinearWarmup, type EpochSchedule } from '../optim/schedules.js';

/**
 * 'reference' is D2R's recipe, stated for 100 epochs (epoch 1: lr/5; 2..75: lr;
 * 76..90: lr/10; 91..100: lr/100) and scaled proportionally to --epochs.
 */
export function scheduleFor(config: TrainConfig): EpochSchedule {
  const { lr, epochs } = config;
  let schedule: EpochSchedule;
  switch (config.schedule) {
    case 'reference': {
      const at = (fraction: number): number => Math.max(1, Math.round(epochs * fraction));
      schedule = piecewiseByEpoch([
        [Math.min(1, epochs), lr / 5],
        [Math.max(at(0.75), 1), lr],
        [Math.max(at(0.9), at(0.75)), lr / 10],
        [epochs, lr / 100],
      ]);
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
