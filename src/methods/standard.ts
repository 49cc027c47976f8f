// Standard training: cross-entropy on clean data.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models, TrainingMethod } from './method.js';

export class StandardTraining implements TrainingMethod {
  readonly name = 'standard';
  readonly needsGuidance = false;
  readonly config = {};

  batchLoss({ target }: Models, x: Tensor, y: Tensor): BatchLoss {
    const logits = target.forward(x);
    return { loss: torch.crossEntropy(logits, y), targetLogits: logits };
  }
}
