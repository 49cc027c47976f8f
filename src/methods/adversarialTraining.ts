// What the adversarial methods share: a batch's loss is the loss on an
// adversarial batch the method generated first. Splitting the two lets tests
// and experiments give a fixed x' (or a fixed start) to either half.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { inEvalMode } from '../attacks/common.js';
import type { Module } from '../nn/index.js';
import type { BatchLoss, Models, TrainingMethod } from './method.js';
import type { Budget } from './generation.js';

/** Options of the methods with one KL regulariser weight (TRADES, MART, LBGAT). */
export interface BetaOptions extends Budget {
  /** Weight of the KL regulariser (default DEFAULT_BETA). */
  beta?: number;
}

export abstract class AdversarialTraining implements TrainingMethod {
  abstract readonly name: string;
  abstract readonly needsGuidance: boolean;
  abstract readonly config: object;

  /** The adversarial batch (detached), from `init` instead of the random start when given. Modes are restored. */
  abstract generate(models: Models, x: Tensor, y: Tensor, init?: Tensor): Tensor;

  /** The loss on the clean batch x and its adversarial batch xAdv, in the modes the caller set. */
  abstract lossOn(models: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss;

  batchLoss(models: Models, x: Tensor, y: Tensor): BatchLoss {
    return this.lossOn(models, x, this.generate(models, x, y), y);
  }
}

/** The guidance model of a two-model method, with a clear error when it is missing. */
export function requireGuidance(models: Models, method: string): Module {
  if (!models.guidance) throw new Error(`${method} needs a guidance model (models.guidance)`);
  return models.guidance;
}

/**
 * Logits from an eval-mode pass without gradients: a frozen model's output, or
 * the training-accuracy metric of a method whose loss never runs the target on
 * x (it then touches neither BatchNorm statistics nor the loss).
 */
export function inferenceLogits(model: Module, x: Tensor): Tensor {
  return inEvalMode([model], () => torch.noGrad(() => model.forward(x)));
}
