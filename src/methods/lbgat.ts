// LBGAT (Cui et al. 2021): target and guidance trained together;
// x' from target-only KL ascent; L = CE(zGc, y) + MSE(zTa, zGc) + beta * batchmean KL(p_T(x) || p_T(x')).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models, TrainingMethod } from '../train/method.js';
import { divergenceAscent, type Budget } from './generation.js';
import { batchMeanKl } from './kl.js';

export class Lbgat implements TrainingMethod {
  readonly name = 'lbgat';
  readonly needsGuidance = true;
  constructor(readonly config: Budget & { beta: number }) {}

  batchLoss({ target, guidance }: Models, x: Tensor, y: Tensor): BatchLoss {
    if (!guidance) throw new Error('lbgat needs a guidance model');
    const xAdv = divergenceAscent(target, target, x, this.config);
    const targetAdv = target.forward(xAdv);
    const guidanceClean = guidance.forward(x);
    const ce = torch.crossEntropy(guidanceClean, y);
    const mse = torch.mseLoss(targetAdv, guidanceClean);
    const terms: Record<string, Tensor> = { ce, mse };
    let loss = ce.add(mse);
    let targetClean: Tensor | undefined;
    if (this.config.beta !== 0) {
      targetClean = target.forward(x);
      terms['kl'] = batchMeanKl(targetAdv.logSoftmax(1), targetClean.softmax(1));
      loss = loss.add(terms['kl'].mul(this.config.beta));
    }
    return { loss, targetLogits: targetClean ?? targetAdv, guidanceLogits: guidanceClean, terms };
  }
}
