// Training methods, each its own file, and the registry the trainer and CLI use.
import type { TrainingMethod } from './method.js';
import { METHOD_NAMES, type MethodName } from './defaults.js';
import type { BetaOptions } from './adversarialTraining.js';
import type { Budget } from './generation.js';
import { StandardTraining } from './standard.js';
import { PgdAdversarialTraining } from './pgdAt.js';
import { Trades } from './trades.js';
import { Mart } from './mart.js';
import { Lbgat } from './lbgat.js';
import { D2r, type D2rOptions } from './d2r.js';

export { cag, type CagOptions } from './cag.js';
export { d2rLoss, D2r, type D2rOptions, type D2rWeights } from './d2r.js';
export { StandardTraining } from './standard.js';
export { PgdAdversarialTraining, pgdCeGeneration } from './pgdAt.js';
export { Trades } from './trades.js';
export { Mart } from './mart.js';
export { Lbgat } from './lbgat.js';
export { AdversarialTraining, type BetaOptions } from './adversarialTraining.js';
export { klGeneration, targetKlGeneration, type Budget } from './generation.js';
export { elementMeanKl, batchMeanKl, perSampleKl } from './kl.js';
export {
  methodDefaults,
  referenceLearningRate,
  METHOD_NAMES,
  TWO_MODEL_METHODS,
  BETA_METHODS,
  DEFAULT_BETA,
  D2R_DEFAULT_WEIGHTS,
  type MethodDefaults,
  type MethodName,
} from './defaults.js';
export type { TrainingMethod, Models, BatchLoss } from './method.js';

/** The options each method takes (the attack budget is required for all but standard). */
export interface MethodOptions {
  standard: object;
  'pgd-at': Budget;
  trades: BetaOptions;
  mart: BetaOptions;
  lbgat: BetaOptions;
  d2r: D2rOptions;
}

/** The run-configuration fields the methods read (the trainer passes its whole config). */
export interface MethodSettings {
  method: MethodName;
  epsilon: number;
  stepSize: number;
  steps: number;
  norm: 'linf' | 'l2';
  /** Null: the method's default (DEFAULT_BETA). */
  beta: number | null;
  mseWeight: number;
  cleanWeight: number;
  advWeight: number;
  generation: 'cag' | 'target';
  reduction: 'reference' | 'batchmean';
  guidanceMode: 'joint' | 'frozen';
}

/** Builds a method by name; options left out take the defaults of ./defaults.ts (DEFAULT_BETA, D2R_DEFAULT_WEIGHTS, ...). */
export function createMethod<N extends MethodName>(name: N, options: MethodOptions[N]): TrainingMethod;
/** Builds the method a run configuration names (the trainer's call). */
export function createMethod(settings: MethodSettings): TrainingMethod;
export function createMethod(nameOrSettings: MethodName | MethodSettings, options?: object): TrainingMethod {
  if (typeof nameOrSettings !== 'string') return createMethod(nameOrSettings.method, optionsFromSettings(nameOrSettings));
  const o = options as MethodOptions[MethodName];
  switch (nameOrSettings) {
    case 'standard':
      return new StandardTraining();
    case 'pgd-at':
      return new PgdAdversarialTraining(o as Budget);
    case 'trades':
      return new Trades(o as BetaOptions);
    case 'mart':
      return new Mart(o as BetaOptions);
    case 'lbgat':
      return new Lbgat(o as BetaOptions);
    case 'd2r':
      return new D2r(o as D2rOptions);
    default:
      throw new Error(`unknown method '${String(nameOrSettings)}'; known: ${METHOD_NAMES.join(', ')}`);
  }
}

function optionsFromSettings(c: MethodSettings): D2rOptions & BetaOptions {
  return {
    epsilon: c.epsilon,
    stepSize: c.stepSize,
    steps: c.steps,
    norm: c.norm,
    ...(c.beta === null || c.beta === undefined ? {} : { beta: c.beta }),
    mse: c.mseWeight,
    clean: c.cleanWeight,
    adv: c.advWeight,
    generation: c.generation,
    reduction: c.reduction,
    guidance: c.guidanceMode,
  };
}
