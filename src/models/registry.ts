// Builds a bundled model by its command-line name.
import type { Module } from '../nn/module.js';
import type { NormalizeOptions } from '../nn/normalize.js';
import { smallCnn } from './smallCnn.js';
import { preActResNet18 } from './preActResNet18.js';
import { resNet18 } from './resNet18.js';
import { wideResNet } from './wideResNet.js';

/** What the data set decides about a model. */
export interface ModelSpec {
  numClasses: number;
  inChannels: number;
  imageSize: number;
  /** Dropout of smallcnn's classifier (the other models have none). */
  dropout?: number;
  normalize?: NormalizeOptions;
}

const builders = {
  smallcnn: (s: ModelSpec) => smallCnn(s),
  preact18: (s: ModelSpec) => preActResNet18(s),
  resnet18: (s: ModelSpec) => resNet18(s),
  wrn: (s: ModelSpec) => wideResNet({ numClasses: s.numClasses, inChannels: s.inChannels, normalize: s.normalize }),
  // The RobustBench staples, in RobustBench's WideResNet layout (no sub_block1).
  'wrn-28-10': (s: ModelSpec) =>
    wideResNet({
      depth: 28,
      widenFactor: 10,
      subBlock1: false,
      numClasses: s.numClasses,
      inChannels: s.inChannels,
      normalize: s.normalize,
    }),
  'wrn-70-16': (s: ModelSpec) =>
    wideResNet({
      depth: 70,
      widenFactor: 16,
      subBlock1: false,
      numClasses: s.numClasses,
      inChannels: s.inChannels,
      normalize: s.normalize,
    }),
} satisfies Record<string, (s: ModelSpec) => Module>;

export type ModelName = keyof typeof builders;
export const MODEL_NAMES = Object.keys(builders) as ModelName[];

export function createModel(name: string, spec: ModelSpec): Module {
  const build = builders[name as ModelName];
  if (build === undefined) throw new Error(`unknown model '${name}'; expected one of ${MODEL_NAMES.join(', ')}`);
  return build(spec);
}
