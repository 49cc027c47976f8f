// Training methods, each its own file, and the registry the trainer and CLI use.
import type { TrainingMethod } from '../train/method.js';
import type { TrainConfig } from '../train/config.js';
import { StandardTraining } from './standard.js';
import { PgdAdversarialTraining } from './pgdAt.js';
import { Trades } from './trades.js';
import { Mart } from './mart.js';
import { Lbgat } from './lbgat.js';
import { D2r } from './d2r.js';

export { cag, type CagOptions } from './cag.js';
export { d2rLoss, D2r, type D2rOptions, type D2rWeights } from './d2r.js';
export { StandardTraining } from './standard.js';
export { PgdAdversarialTraining } from './pgdAt.js';
export { Trades } from './trades.js';
export { Mart } from './mart.js';
export { Lbgat } from './lbgat.js';
export { divergenceAscent, type Budget } from './generation.js';

type MethodSettings = Pick<TrainConfig, 'method' | 'epsilon' | 'stepSize' | 'steps' | 'norm' | 'beta' | 'mseWeight' | 'cleanWeight' | 'advWeight' | 'generation' | 'reduction'>;

/** Builds the training method a run configuration names. */
export function createMethod(c: MethodSettings): TrainingMethod {
  const budget = { epsilon: c.epsilon, stepSize: c.stepSize, steps: c.steps, norm: c.norm };
  const beta = c.beta ?? 6;
  switch (c.method) {
    case 'standard':
      return new StandardTraining();
    case 'pgd-at':
      return new PgdAdversarialTraining(budget);
    case 'trades':
      return new Trades({ ...budget, beta });
    case 'mart':
      return new Mart({ ...budget, beta });
    case 'lbgat':
      return new Lbgat({ ...budget, beta });
    case 'd2r':
      return new D2r({ ...budget, mse: c.mseWeight, clean: c.cleanWeight, adv: c.advWeight, generation: c.generation, reduction: c.reduction });
  }
}
