// The contract between the trainer and a training method (standard, PGD-AT,
// TRADES, MART, LBGAT, D2R, ...). The trainer owns epochs, the optimiser, the
// learning-rate schedule, modes, metrics and checkpoints; a method only says
// how one batch becomes a loss.
import type { Tensor } from '../engine/tensor.js';
import type { Models } from '../models/targetAndGuidance.js';

export type { Models };

export interface BatchLoss {
  /** Scalar loss; the trainer calls backward() on it and steps the optimiser. */
  loss: Tensor;
  /** The target's logits on the clean batch (train mode), for the running training accuracy. */
  targetLogits?: Tensor;
  /** The guidance model's logits on the clean batch, for two-model methods. */
  guidanceLogits?: Tensor;
  /** Named scalar terms of the loss (e.g. ce, mse, clean, adv) for the metrics log. */
  terms?: Record<string, Tensor>;
}

export interface TrainingMethod {
  /** Registry name, as given to `d2r train --method`. */
  readonly name: string;
  /** True when the method trains a guidance model next to the target (D2R, LBGAT). */
  readonly needsGuidance: boolean;
  /** Every hyper-parameter of the method, recorded in config.json. */
  readonly config: object;
  /**
   * The loss of one batch. The trainer has put the models in train mode; a method
   * that generates adversarial inputs switches to eval mode for that and restores
   * the modes before computing the loss.
   */
  batchLoss(models: Models, x: Tensor, y: Tensor): BatchLoss;
}
