// The models of a run, in one place for the trainer and the evaluation: the
// architectures its settings name, built for its data, and the weights of its
// latest checkpoint.
import * as torch from '../engine/torch.js';
import { BatchNorm2d, type Module } from '../nn/index.js';
import type { Dataset } from '../data/index.js';
import { createModel, type ModelName, type ModelSpec } from '../models/registry.js';
import { loadCheckpointWeights } from '../io/checkpoint.js';

type DataShape = Pick<Dataset, 'inputShape' | 'numClasses'>;

/** What the data set decides about the models. */
export function modelSpecFor(data: DataShape, dropout: number): ModelSpec {
  return { numClasses: data.numClasses, inChannels: data.inputShape[0], imageSize: data.inputShape[1], dropout };
}

/**
 * A freshly initialised model of an architecture, built for the data, on the device. On CPU a model
 * without batch norm (smallcnn) gets its convolution weights laid out channels-last: training and
 * attacks about a fifth faster, values equal to float rounding. Batch norm keeps NCHW: libtorch
 * 1.13's channels-last batch norm backward in train mode is off by up to a few percent on deeper
 * networks (docs/engine.md, "Memory format").
 */
export function createModelFor(name: ModelName, data: DataShape, dropout: number, device: string): Module {
  const model = createModel(name, modelSpecFor(data, dropout)).to(device);
  return device === 'cpu' && !hasBatchNorm(model) ? model.toChannelsLast() : model;
}

function hasBatchNorm(model: Module): boolean {
  let found = false;
  model.apply((m) => {
    if (m instanceof BatchNorm2d) found = true;
  });
  return found;
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
