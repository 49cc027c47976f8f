// PGD-AT (Madry et al. 2018): x' from PGD on CE with a uniform start; L = CE(z(x'), y).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { pgd, type RandomStart } from '../attacks/pgd.js';
import type { BatchLoss, Models } from './method.js';
import { AdversarialTraining, inferenceLogits } from './adversarialTraining.js';
import { budgetOf, type Budget } from './generation.js';

/**
 * The CE-PGD generation PGD-AT and MART share. PGD-AT starts uniformly in the
 * eps-ball (Madry et al.); MART's reference starts at x + 0.001 N(0, I).
 */
export function pgdCeGeneration(
  target: Models['target'],
  x: Tensor,
  y: Tensor,
  budget: Budget,
  init?: Tensor,
  start: RandomStart = 'uniform',
): Tensor {
  return pgd(target, x, y, { ...budget, loss: 'ce', randomStart: start, init });
}

export class PgdAdversarialTraining extends AdversarialTraining {
  readonly name = 'pgd-at';
  readonly needsGuidance = false;
  readonly config: Required<Budget>;

  constructor(budget: Budget) {
    super();
    this.config = budgetOf(budget);
  }

  generate({ target }: Models, x: Tensor, y: Tensor, init?: Tensor): Tensor {
    return pgdCeGeneration(target, x, y, this.config, init);
  }

  lossOn({ target }: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss {
    return { loss: torch.crossEntropy(target.forward(xAdv), y), targetLogits: inferenceLogits(target, x) };
  }
}
