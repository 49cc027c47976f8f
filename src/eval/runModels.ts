// The models of a run, in one place for the trainer and the evaluation: the
// architectures its settings name, built for its data, and the weights of its
// latest checkpoint.
import * as torch from '../engine/torch.js';
import type { Module } from '../nn/index.js';
import type { Dataset } from '../data/index.js';
import { createModel, type ModelName, type ModelSpec } from '../models/registry.js';
import { loadCheckpointWeights } from '../io/checkpoint.js';

type DataShape = Pick<Dataset, 'inputShape' | 'numClasses'>;

/** What the data set decides about the models. */
export function modelSpecFor(data: DataShape, dropout: number): ModelSpec {
  return { numClasses: data.numClasses, inChannels: data.inputShape[0], imageSize: data.inputShape[1], dropout };
}

/**
 * A freshly initialised model of an architecture, built for the data, on the device; on CPU its
 * convolution weights are laid out channels-last, which makes training and attacks about a fifth
 * faster with the same values (docs/engine.md, "Memory format").
 */
export function createModelFor(name: ModelName, data: DataShape, dropout: number, device: string): Module {
  const model = createModel(name, modelSpecFor(data, dropout)).to(device);
  return device === 'cpu' ? model.toChannelsLast() : model;
}

/** Loads the weights of the run's latest checkpoint into `model`; returns the checkpoint's epoch. */
export function loadRunWeights(runDir: string, model: Module, which: 'target' | 'guidance' = 'target'): number {
  return torch.tidy(() => {
    const { epoch, batch, weights } = loadCheckpointWeights(runDir, which);
    const when = batch === undefined ? `epoch ${epoch}` : `batch ${batch} of epoch ${epoch + 1}`;
    model.loadStateDict(weights, { from: `the ${which} weights of ${when} in ${runDir}` });
    return epoch;
  });
}
