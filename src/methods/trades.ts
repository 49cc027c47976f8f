// TRADES (Zhang et al. 2019): L = CE(z(x), y) + beta * batchmean KL(p(x) || p(x')),
// x' from ascent on that KL starting at x + 0.001 N(0, I).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models, TrainingMethod } from '../train/method.js';
import { divergenceAscent, type Budget } from './generation.js';
import { batchMeanKl } from './kl.js';

export class Trades implements TrainingMethod {
  readonly name = 'trades';
  readonly needsGuidance = false;
  constructor(readonly config: Budget & { beta: number }) {}

  batchLoss({ target }: Models, x: Tensor, y: Tensor): BatchLoss {
    const xAdv = divergenceAscent(target, target, x, this.config);
    const clean = target.forward(x);
    const ce = torch.crossEntropy(clean, y);
    const kl = batchMeanKl(target.forward(xAdv).logSoftmax(1), clean.softmax(1));
    return { loss: ce.add(kl.mul(this.config.beta)), targetLogits: clean, terms: { ce, kl } };
  }
}
