// The full configuration of a training run: its flags, defaults and the
// derived values (attack budget per data set, learning rate per model).
import type { FlagSpec } from '../cli/flags.js';
import { UsageError } from '../cli/flags.js';

import { MODEL_NAMES, type ModelName } from '../models/registry.js';
import { DATASETS, type DatasetName } from '../data/registry.js';

export const METHOD_NAMES = ['standard', 'pgd-at', 'trades', 'mart', 'lbgat', 'd2r'] as const;
export const DATASET_NAMES = DATASETS as readonly DatasetName[];
export { MODEL_NAMES };
export type MethodName = (typeof METHOD_NAMES)[number];
export type { ModelName, DatasetName };
export type ScheduleName = 'reference' | 'multistep' | 'cosine' | 'constant';

export interface TrainConfig {
  method: MethodName;
  model: ModelName;
  /** The guidance model of two-model methods (D2R, LBGAT). */
  guidance: ModelName;
  /** Weights for a pre-trained guidance model (with guidanceMode 'frozen'). */
  guidanceWeights: string | null;
  guidanceMode: 'joint' | 'frozen';
  dataset: DatasetName;
  dataDir: string | null;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  milestones: number[];
  gamma: number;
  warmupEpochs: number;
  epsilon: number;
  stepSize: number;
  steps: number;
  norm: 'linf' | 'l2';
  beta: number | null;
  mseWeight: number;
  cleanWeight: number;
  advWeight: number;
  generation: 'cag' | 'target';
  reduction: 'reference' | 'batchmean';
  augment: 'auto' | 'on' | 'off';
  dropout: number;
  seed: number;
  threads: number;
  limit: number | null;
  evalN: number;
  evalSteps: number;
  device: string;
  out: string;
  resume: boolean;
}

export const TRAIN_FLAGS: FlagSpec[] = [
  { name: 'config', type: 'string', help: 'JSON or YAML file with any of these settings (flags override it)' },
  { name: 'method', type: 'string', choices: METHOD_NAMES, default: 'standard', help: 'training method' },
  { name: 'model', type: 'string', choices: MODEL_NAMES, default: 'smallcnn', help: 'target model' },
  { name: 'guidance', type: 'string', choices: MODEL_NAMES, help: 'guidance model for d2r/lbgat (default: resnet18 on 32x32 data, else the target architecture)' },
  { name: 'guidance-weights', type: 'string', help: 'safetensors weights of a pre-trained guidance model' },
  { name: 'guidance-mode', type: 'string', choices: ['joint', 'frozen'], default: 'joint', help: 'train the guidance jointly, or keep it frozen' },
  { name: 'dataset', type: 'string', choices: DATASET_NAMES, default: 'fashion-mnist', help: 'data set' },
  { name: 'data-dir', type: 'string', help: 'folder with the data files (mnist, cifar10, cifar100, tiny-imagenet; fashion-mnist: default the system copy)' },
  { name: 'epochs', type: 'integer', min: 1, default: 5, help: 'training epochs' },
  { name: 'batch-size', type: 'integer', min: 1, default: 128, help: 'batch size' },
  { name: 'lr', type: 'number', min: 0, help: 'peak learning rate (default: 0.1; 0.01 for smallcnn)' },
  { name: 'momentum', type: 'number', min: 0, default: 0.9, help: 'SGD momentum' },
  { name: 'weight-decay', type: 'number', min: 0, default: 2e-4, help: 'SGD weight decay (every parameter)' },
  { name: 'schedule', type: 'string', choices: ['reference', 'multistep', 'cosine', 'constant'], default: 'reference',
    help: "learning-rate schedule; 'reference' is D2R's (epoch 1: lr/5, then lr, /10 at 75%, /100 at 90%)" },
  { name: 'milestones', type: 'list', help: 'epochs where multistep multiplies the lr by gamma (default: 75%,90% of epochs)' },
  { name: 'gamma', type: 'number', min: 0, default: 0.1, help: 'multistep factor' },
  { name: 'warmup-epochs', type: 'integer', min: 0, default: 0, help: 'linear warm-up epochs before the schedule' },
  { name: 'epsilon', type: 'number', min: 0, help: 'attack budget (default: 0.3 mnist, 0.1 fashion-mnist, 8/255 otherwise)' },
  { name: 'step-size', type: 'number', min: 0, help: 'attack step (default: epsilon/10 on 28x28 data, 0.007 otherwise)' },
  { name: 'steps', type: 'integer', min: 0, default: 10, help: 'attack steps during training' },
  { name: 'norm', type: 'string', choices: ['linf', 'l2'], default: 'linf', help: 'threat model' },
  { name: 'beta', type: 'number', min: 0, help: 'TRADES/MART/LBGAT regulariser weight (default: 6)' },
  { name: 'mse-weight', type: 'number', min: 0, default: 1, help: 'D2R: weight of the MSE logit term' },
  { name: 'clean-weight', type: 'number', min: 0, default: 20, help: 'D2R: weight of the clean-distribution term' },
  { name: 'adv-weight', type: 'number', min: 0, default: 30, help: 'D2R: weight of the adversarial-distribution term' },
  { name: 'generation', type: 'string', choices: ['cag', 'target'], default: 'cag', help: 'D2R: collaborative (cag) or target-only adversarial generation' },
  { name: 'reduction', type: 'string', choices: ['reference', 'batchmean'], default: 'reference', help: 'D2R: KL reduction' },
  { name: 'augment', type: 'string', choices: ['auto', 'on', 'off'], default: 'auto', help: 'random crop + flip (auto: on for 32x32 and larger colour data)' },
  { name: 'dropout', type: 'number', min: 0, default: 0.5, help: 'smallcnn dropout' },
  { name: 'seed', type: 'integer', min: 0, default: 0, help: 'random seed (data order, init, attacks)' },
  { name: 'threads', type: 'integer', min: 1, help: 'libtorch threads (default: libtorch default)' },
  { name: 'limit', type: 'integer', min: 1, help: 'use only the first N training images' },
  { name: 'eval-n', type: 'integer', min: 0, default: 1000, help: 'test points evaluated after each epoch (clean and PGD)' },
  { name: 'eval-steps', type: 'integer', min: 0, default: 20, help: 'PGD steps of the per-epoch robust evaluation (0: clean only)' },
  { name: 'device', type: 'string', default: 'cpu', help: "device ('cpu', 'cuda', 'cuda:1')" },
  { name: 'out', type: 'string', default: 'runs/latest', help: 'run directory (config, metrics, checkpoints)' },
  { name: 'resume', type: 'boolean', default: false, help: 'continue the run in --out from its last checkpoint' },
];

const isSmallImages = (dataset: DatasetName): boolean => dataset === 'mnist' || dataset === 'mnist-10k' || dataset === 'fashion-mnist';

/** The usual L-inf budget of a data set: 0.3 on MNIST, 0.1 on Fashion-MNIST, 8/255 on colour images. */
export function defaultEpsilon(dataset: DatasetName): number {
  return dataset === 'mnist' || dataset === 'mnist-10k' ? 0.3 : dataset === 'fashion-mnist' ? 0.1 : 8 / 255;
}

/** Fills the defaults that depend on other settings and checks combinations. */
export function resolveTrainConfig(flags: Record<string, unknown>): TrainConfig {
  const c = { ...flags } as unknown as TrainConfig & { threads: number | null; lr: number | null; guidance: ModelName | null };
  const small = isSmallImages(c.dataset);
  c.guidance ??= small ? c.model : 'resnet18';
  c.lr ??= c.model === 'smallcnn' ? 0.01 : 0.1;
  c.epsilon ??= defaultEpsilon(c.dataset);
  c.stepSize ??= small ? c.epsilon / 10 : 0.007;
  c.beta ??= c.method === 'lbgat' || c.method === 'trades' || c.method === 'mart' ? 6 : null;
  c.milestones = (c.milestones as unknown as string[] | null)?.map(Number) ?? [Math.ceil(c.epochs * 0.75), Math.ceil(c.epochs * 0.9)];
  if (c.milestones.some((m) => !Number.isInteger(m) || m < 1)) {
    throw new UsageError(`--milestones: expected positive epoch numbers, got ${c.milestones.join(',')}`);
  }
  c.threads ??= 0;
  if (c.guidanceMode === 'frozen' && !c.guidanceWeights) {
    throw new UsageError('--guidance-mode frozen needs --guidance-weights (a pre-trained guidance model)');
  }
  return c as TrainConfig;
}
