// LBGAT (Cui et al. 2021), the method D2R grows out of: target and guidance
// trained together; x' from target-only KL ascent;
// L = CE(z_G(x), y) + MSE(z_T(x'), z_G(x)) + beta * (1/B) sum_i KL(p_T(x_i) || p_T(x'_i)).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models } from './method.js';
import { DEFAULT_BETA } from './defaults.js';
import { AdversarialTraining, requireGuidance, type BetaOptions } from './adversarialTraining.js';
import { budgetOf, targetKlGeneration } from './generation.js';
import { batchMeanKl } from './kl.js';

export class Lbgat extends AdversarialTraining {
  readonly name = 'lbgat';
  readonly needsGuidance = true;
  readonly config: Required<BetaOptions>;

  /** beta 0 is "LBGAT0"; DEFAULT_BETA when left out. */
  constructor(options: BetaOptions) {
    super();
    this.config = { ...budgetOf(options), beta: options.beta ?? DEFAULT_BETA };
  }

  generate(models: Models, x: Tensor, _y: Tensor, init?: Tensor): Tensor {
    requireGuidance(models, this.name);
    return targetKlGeneration(models.target, x, this.config, init);
  }

  lossOn(models: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss {
    const guidance = requireGuidance(models, this.name);
    const { target } = models;
    // The reference's order of passes, all in train mode: T(x'), T(x), G(x). LBGAT0 runs
    // T(x) too (its KL weight is 0), which moves the target's BatchNorm statistics.
    const targetAdv = target.forward(xAdv);
    const targetClean = target.forward(x);
    const guidanceClean = guidance.forward(x);
    const ce = torch.crossEntropy(guidanceClean, y);
    const mse = torch.mseLoss(targetAdv, guidanceClean);
    const logits = { targetLogits: targetClean, guidanceLogits: guidanceClean };
    if (this.config.beta === 0) return { loss: ce.add(mse), ...logits, terms: { ce, mse } };
    const kl = batchMeanKl(targetAdv.logSoftmax(1), targetClean.softmax(1));
    return { loss: ce.add(mse).add(kl.mul(this.config.beta)), ...logits, terms: { ce, mse, kl } };
  }
}
