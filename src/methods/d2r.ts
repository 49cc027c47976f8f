// D2R: the dual regularisation loss with collaborative adversarial generation
// (Liu et al. 2025), as docs/method.md states the reference behaviour.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import type { BatchLoss, Models } from './method.js';
import { AdversarialTraining, inferenceLogits, requireGuidance } from './adversarialTraining.js';
import { cag } from './cag.js';
import { D2R_DEFAULT_WEIGHTS } from './defaults.js';
import { budgetOf, targetKlGeneration, type Budget } from './generation.js';
import { batchMeanKl, elementMeanKl } from './kl.js';

export interface D2rWeights {
  /** Weight of MSE(z_T(x'), z_G(x)) (default D2R_DEFAULT_WEIGHTS.mse). */
  mse?: number;
  /** Weight of |k(log p_G(x), p_T(x)) - k(log p_T(x), p_G(x))| (default D2R_DEFAULT_WEIGHTS.clean). */
  clean?: number;
  /** Weight of k(log p_G(x), p_T(x')) (default D2R_DEFAULT_WEIGHTS.adv). */
  adv?: number;
  /** 'reference' (default): k averages over all B*C entries; 'batchmean': per-sample KL averaged over the batch. */
  reduction?: 'reference' | 'batchmean';
}

/** The weights with the reference defaults filled in (an undefined entry takes its default). */
function resolveWeights(w: D2rWeights): Required<D2rWeights> {
  return {
    mse: w.mse ?? D2R_DEFAULT_WEIGHTS.mse,
    clean: w.clean ?? D2R_DEFAULT_WEIGHTS.clean,
    adv: w.adv ?? D2R_DEFAULT_WEIGHTS.adv,
    reduction: w.reduction ?? 'reference',
  };
}

/** The D2R loss and its terms from the three logits: z_T(x'), z_T(x), z_G(x). */
function d2rFromLogits(
  targetAdv: Tensor,
  targetClean: Tensor,
  guidanceClean: Tensor,
  y: Tensor,
  weights: D2rWeights,
): { loss: Tensor; terms: Record<string, Tensor> } {
  const w = resolveWeights(weights);
  const k = w.reduction === 'reference' ? elementMeanKl : batchMeanKl;
  const logPT = targetClean.logSoftmax(1);
  const logPG = guidanceClean.logSoftmax(1);
  const ce = torch.crossEntropy(guidanceClean, y);
  const mse = torch.mseLoss(targetAdv, guidanceClean);
  const clean = k(logPG, targetClean.softmax(1))
    .sub(k(logPT, guidanceClean.softmax(1)))
    .abs();
  const adv = k(logPG, targetAdv.softmax(1));
  const loss = ce.add(mse.mul(w.mse)).add(clean.mul(w.clean)).add(adv.mul(w.adv));
  return { loss, terms: { ce, mse, clean, adv } };
}

/**
 * The D2R loss (a scalar): CE(z_G(x), y) + mse * MSE(z_T(x'), z_G(x))
 * + clean * |k(log p_G(x), p_T(x)) - k(log p_T(x), p_G(x))| + adv * k(log p_G(x), p_T(x')).
 * Nothing is detached but x'; the models run in whatever mode the caller set.
 */
export function d2rLoss(target: Module, guidance: Module, x: Tensor, xAdv: Tensor, y: Tensor, weights: D2rWeights = {}): Tensor {
  const targetAdv = target.forward(xAdv.detach());
  return d2rFromLogits(targetAdv, target.forward(x), guidance.forward(x), y, weights).loss;
}

export interface D2rOptions extends Budget, D2rWeights {
  /** 'cag' (default): away from the guidance's clean prediction; 'target': TRADES-style ablation. */
  generation?: 'cag' | 'target';
  /** 'joint' (default): trained with the target; 'frozen': pre-trained, eval mode, no gradients into it. */
  guidance?: 'joint' | 'frozen';
}

export class D2r extends AdversarialTraining {
  readonly name = 'd2r';
  readonly needsGuidance = true;
  readonly config: Required<D2rOptions>;

  constructor(options: D2rOptions) {
    super();
    this.config = {
      ...budgetOf(options),
      ...resolveWeights(options),
      generation: options.generation ?? 'cag',
      guidance: options.guidance ?? 'joint',
    };
  }

  generate(models: Models, x: Tensor, _y: Tensor, init?: Tensor): Tensor {
    const guidance = requireGuidance(models, this.name);
    if (this.config.generation === 'target') return targetKlGeneration(models.target, x, this.config, init);
    return cag(models.target, guidance, x, { ...this.config, init });
  }

  lossOn(models: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss {
    const guidance = requireGuidance(models, this.name);
    const targetAdv = models.target.forward(xAdv.detach());
    const targetClean = models.target.forward(x);
    const guidanceClean = this.config.guidance === 'frozen' ? inferenceLogits(guidance, x) : guidance.forward(x);
    const { loss, terms } = d2rFromLogits(targetAdv, targetClean, guidanceClean, y, this.config);
    return { loss, targetLogits: targetClean, guidanceLogits: guidanceClean, terms };
  }
}
