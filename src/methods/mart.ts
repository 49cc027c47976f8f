// MART (Wang et al. 2020): x' from PGD on CE;
// L = CE(z(x'), y) - log(1 - max_{k != y} p_k(x')) + beta * mean_i KL(p(x_i) || p(x'_i)) (1 - p_y(x_i)).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { pgd } from '../attacks/pgd.js';
import type { BatchLoss, Models, TrainingMethod } from '../train/method.js';
import type { Budget } from './generation.js';
import { perSampleKl } from './kl.js';

export class Mart implements TrainingMethod {
  readonly name = 'mart';
  readonly needsGuidance = false;
  constructor(readonly config: Budget & { beta: number }) {}

  batchLoss({ target }: Models, x: Tensor, y: Tensor): BatchLoss {
    const xAdv = pgd(target, x, y, { ...this.config, randomStart: 'uniform' });
    const clean = target.forward(x);
    const advLogits = target.forward(xAdv);
    const advProbs = advLogits.softmax(1);
    const trueClass = y.unsqueeze(1);
    const ce = torch.crossEntropy(advLogits, y);
    // Boosted term: the largest wrong-class probability of x' pushed down. The
    // constants 1.0001, 1e-12 and 1.0000001 are the reference implementation's guards.
    const maxWrong = advProbs.scatter(1, trueClass, -1).amax(1);
    const boost = maxWrong.neg().add(1.0001 + 1e-12).log().neg().mean();
    const cleanProbs = clean.softmax(1);
    const trueProb = cleanProbs.gather(1, trueClass).squeeze(1);
    const kl = perSampleKl(advProbs.add(1e-12).log(), cleanProbs).mul(trueProb.neg().add(1.0000001)).mean();
    return { loss: ce.add(boost).add(kl.mul(this.config.beta)), targetLogits: clean, terms: { ce, boost, kl } };
  }
}
