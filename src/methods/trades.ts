// TRADES (Zhang et al. 2019): x' from KL ascent starting at x + 0.001 N(0, I);
// L = CE(z(x), y) + beta * (1/B) sum_i KL(p(x_i) || p(x'_i)).
// As the reference, the model runs on x, x' and x again in train mode (the KL's clean
// distribution comes from the second pass), so BatchNorm statistics and dropout masks
// follow the reference's sequence (docs/method.md).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models } from './method.js';
import { DEFAULT_BETA } from './defaults.js';
import { AdversarialTraining, type BetaOptions } from './adversarialTraining.js';
import { budgetOf, targetKlGeneration } from './generation.js';
import { batchMeanKl } from './kl.js';

export class Trades extends AdversarialTraining {
  readonly name = 'trades';
  readonly needsGuidance = false;
  readonly config: Required<BetaOptions>;

  constructor(options: BetaOptions) {
    super();
    this.config = { ...budgetOf(options), beta: options.beta ?? DEFAULT_BETA };
  }

  generate({ target }: Models, x: Tensor, _y: Tensor, init?: Tensor): Tensor {
    return targetKlGeneration(target, x, this.config, init);
  }

  lossOn({ target }: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss {
    const clean = target.forward(x);
    const ce = torch.crossEntropy(clean, y);
    const advLogProbs = target.forward(xAdv).logSoftmax(1);
    const kl = batchMeanKl(advLogProbs, target.forward(x).softmax(1));
    return { loss: ce.add(kl.mul(this.config.beta)), targetLogits: clean, terms: { ce, kl } };
  }
}
