// PGD-AT (Madry et al. 2018): PGD on CE with a uniform start; CE on x' only.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { pgd } from '../attacks/pgd.js';
import type { BatchLoss, Models, TrainingMethod } from '../train/method.js';
import type { Budget } from './generation.js';

export class PgdAdversarialTraining implements TrainingMethod {
  readonly name = 'pgd-at';
  readonly needsGuidance = false;
  constructor(readonly config: Budget) {}

  batchLoss({ target }: Models, x: Tensor, y: Tensor): BatchLoss {
    const xAdv = pgd(target, x, y, { ...this.config, randomStart: 'uniform' });
    const logits = target.forward(xAdv);
    return { loss: torch.crossEntropy(logits, y), targetLogits: logits };
  }
}
