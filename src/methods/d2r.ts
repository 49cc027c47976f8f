// D2R: the dual regularisation loss with collaborative adversarial generation
// (Liu et al. 2025), as stated in docs/method-d2r.md (the reference behaviour).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import type { BatchLoss, Models, TrainingMethod } from '../train/method.js';
import { cag } from './cag.js';
import { divergenceAscent, type Budget } from './generation.js';
import { batchMeanKl, elementMeanKl } from './kl.js';

export interface D2rWeights {
  /** Weight of MSE(z_T(x'), z_G(x)). */
  mse?: number;
  /** Weight of |k(log p_G, p_T) - k(log p_T, p_G)| on clean data. */
  clean?: number;
  /** Weight of k(log p_G(x), p_T(x')). */
  adv?: number;
  /** 'reference': D2R's element mean over B*C; 'batchmean': per-sample KL averaged over the batch. */
  reduction?: 'reference' | 'batchmean';
}

interface D2rTerms {
  loss: Tensor;
  targetClean: Tensor;
  guidanceClean: Tensor;
  terms: Record<string, Tensor>;
}

function d2rTerms(target: Module, guidance: Module, x: Tensor, xAdv: Tensor, y: Tensor, w: D2rWeights): D2rTerms {
  const divergence = (w.reduction ?? 'reference') === 'reference' ? elementMeanKl : batchMeanKl;
  const targetAdv = target.forward(xAdv.detach());
  const targetClean = target.forward(x);
  const guidanceClean = guidance.forward(x);
  const logPT = targetClean.logSoftmax(1);
  const logPG = guidanceClean.logSoftmax(1);
  const pT = targetClean.softmax(1);
  const pG = guidanceClean.softmax(1);
  const ce = torch.crossEntropy(guidanceClean, y);
  const mse = torch.mseLoss(targetAdv, guidanceClean);
  const clean = divergence(logPG, pT).sub(divergence(logPT, pG)).abs();
  const adv = divergence(logPG, targetAdv.softmax(1));
  const loss = ce.add(mse.mul(w.mse ?? 1)).add(clean.mul(w.clean ?? 20)).add(adv.mul(w.adv ?? 30));
  return { loss, targetClean, guidanceClean, terms: { ce, mse, clean, adv } };
}

/**
 * The D2R loss (a scalar): CE(z_G(x), y) + mse * MSE(z_T(x'), z_G(x))
 * + clean * |k(log p_G(x), p_T(x)) - k(log p_T(x), p_G(x))| + adv * k(log p_G(x), p_T(x')).
 * Nothing is detached but x'; the models run in whatever mode the caller set.
 */
export function d2rLoss(target: Module, guidance: Module, x: Tensor, xAdv: Tensor, y: Tensor, weights: D2rWeights = {}): Tensor {
  return d2rTerms(target, guidance, x, xAdv, y, weights).loss;
}

export interface D2rOptions extends Budget, D2rWeights {
  /** 'cag' (default): away from the guidance's clean prediction; 'target': TRADES-style ablation. */
  generation?: 'cag' | 'target';
}

export class D2r implements TrainingMethod {
  readonly name = 'd2r';
  readonly needsGuidance = true;
  constructor(readonly config: D2rOptions) {}

  batchLoss({ target, guidance }: Models, x: Tensor, y: Tensor): BatchLoss {
    if (!guidance) throw new Error('d2r needs a guidance model');
    const xAdv = (this.config.generation ?? 'cag') === 'cag' ? cag(target, guidance, x, this.config) : divergenceAscent(target, target, x, this.config);
    const r = d2rTerms(target, guidance, x, xAdv, y, this.config);
    return { loss: r.loss, targetLogits: r.targetClean, guidanceLogits: r.guidanceClean, terms: r.terms };
  }
}
