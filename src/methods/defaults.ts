// The method names and the one home of every method default: the regulariser
// weights, and the reference optimiser and schedule every method trains with
// (D2R's recipe; the baselines share the same training loop).
import { piecewiseByEpoch } from '../optim/schedules.js';

export const METHOD_NAMES = ['standard', 'pgd-at', 'trades', 'mart', 'lbgat', 'd2r'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** The methods that train a guidance model next to the target. */
export const TWO_MODEL_METHODS: readonly MethodName[] = ['lbgat', 'd2r'];
/** The methods with one KL regulariser weight beta. */
export const BETA_METHODS: readonly MethodName[] = ['trades', 'mart', 'lbgat'];

/** TRADES, MART and LBGAT: the weight of the KL regulariser. */
export const DEFAULT_BETA = 6;

/** D2R: the weights of the MSE logit term, the clean-distribution term and the adversarial-distribution term. */
export const D2R_DEFAULT_WEIGHTS = { mse: 1, clean: 20, adv: 30 } as const;

export interface MethodDefaults {
  /** The method's own hyper-parameters (the attack budget is per data set and comes from the caller). */
  options: Record<string, number | string>;
  /** One SGD over the parameters of these models. */
  optimizer: { name: 'sgd'; lr: number; momentum: number; weightDecay: number; models: 'target' | 'target+guidance' };
  batchSize: number;
  epochs: number;
  /** The reference learning rate of a 1-based epoch, the 100-epoch table scaled proportionally to `epochs`. */
  learningRate(epoch: number, epochs?: number): number;
}

/** The reference table for 100 epochs: [last epoch, learning rate]. */
const REFERENCE_LR_BY_EPOCH: [number, number][] = [[1, 0.02], [75, 0.1], [90, 0.01], [100, 0.001]];
const REFERENCE_EPOCHS = 100;

export function referenceLearningRate(epoch: number, epochs = REFERENCE_EPOCHS): number {
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`learningRate: epochs must be a positive integer, got ${epochs}`);
  const scaled = REFERENCE_LR_BY_EPOCH.map(([until, lr]): [number, number] => [Math.max(1, Math.round((until * epochs) / REFERENCE_EPOCHS)), lr]);
  return piecewiseByEpoch(scaled)(epoch);
}

const METHOD_OPTIONS: Record<MethodName, Record<string, number | string>> = {
  standard: {},
  'pgd-at': { norm: 'linf' },
  trades: { norm: 'linf', beta: DEFAULT_BETA },
  mart: { norm: 'linf', beta: DEFAULT_BETA },
  lbgat: { norm: 'linf', beta: DEFAULT_BETA },
  d2r: { norm: 'linf', ...D2R_DEFAULT_WEIGHTS, reduction: 'reference', generation: 'cag', guidance: 'joint' },
};

export function methodDefaults(name: MethodName): MethodDefaults {
  const options = METHOD_OPTIONS[name];
  if (!options) throw new Error(`unknown method '${name}'; known: ${Object.keys(METHOD_OPTIONS).join(', ')}`);
  return {
    options: { ...options },
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 2e-4, models: TWO_MODEL_METHODS.includes(name) ? 'target+guidance' : 'target' },
    batchSize: 128,
    epochs: REFERENCE_EPOCHS,
    learningRate: referenceLearningRate,
  };
}
