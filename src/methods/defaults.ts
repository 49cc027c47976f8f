// The reference optimiser and schedule every method trains with (D2R's
// recipe; the baselines share the same training loop): hints for the CLI and scripts.
import { piecewiseByEpoch } from '../optim/schedules.js';
import type { MethodName } from '../train/config.js';

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
  trades: { norm: 'linf', beta: 6 },
  mart: { norm: 'linf', beta: 6 },
  lbgat: { norm: 'linf', beta: 6 },
  d2r: { norm: 'linf', mse: 1, clean: 20, adv: 30, reduction: 'reference', generation: 'cag', guidance: 'joint' },
};

const TWO_MODELS = new Set<MethodName>(['lbgat', 'd2r']);

export function methodDefaults(name: MethodName): MethodDefaults {
  const options = METHOD_OPTIONS[name];
  if (!options) throw new Error(`unknown method '${name}'; known: ${Object.keys(METHOD_OPTIONS).join(', ')}`);
  return {
    options: { ...options },
    optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 2e-4, models: TWO_MODELS.has(name) ? 'target+guidance' : 'target' },
    batchSize: 128,
    epochs: REFERENCE_EPOCHS,
    learningRate: referenceLearningRate,
  };
}
