// MART (Wang et al. 2020): x' from PGD on CE starting at x + 0.001 N(0, I), as the
// reference; the model then runs on x and x' in train mode. L = CE(z(x'), y) - log(1 - max_{k != y} p_k(x'))
// + beta * (1/B) sum_i KL(p(x_i) || p(x'_i)) (1 - p_y(x_i)).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { BatchLoss, Models } from './method.js';
import { budgetOf } from './generation.js';
import { DEFAULT_BETA } from './defaults.js';
import { AdversarialTraining, type BetaOptions } from './adversarialTraining.js';
import { pgdCeGeneration } from './pgdAt.js';
import { perSampleKl } from './kl.js';

export class Mart extends AdversarialTraining {
  readonly name = 'mart';
  readonly needsGuidance = false;
  readonly config: Required<BetaOptions>;

  constructor(options: BetaOptions) {
    super();
    this.config = { ...budgetOf(options), beta: options.beta ?? DEFAULT_BETA };
  }

  generate({ target }: Models, x: Tensor, y: Tensor, init?: Tensor): Tensor {
    return pgdCeGeneration(target, x, y, this.config, init, 'gaussian');
  }

  lossOn({ target }: Models, x: Tensor, xAdv: Tensor, y: Tensor): BatchLoss {
    const clean = target.forward(x);
    const advLogits = target.forward(xAdv);
    const advProbs = advLogits.softmax(1);
    const trueClass = y.unsqueeze(1);
    const ce = torch.crossEntropy(advLogits, y);
    // 1.0001, 1e-12 and 1.0000001 are the reference implementation's guards against log(0).
    const bestWrong = advProbs.scatter(1, trueClass, -1).amax(1);
    const boost = bestWrong
      .neg()
      .add(1.0001 + 1e-12)
      .log()
      .neg()
      .mean();
    const cleanProbs = clean.softmax(1);
    const trueProb = cleanProbs.gather(1, trueClass).squeeze(1);
    const kl = perSampleKl(advProbs.add(1e-12).log(), cleanProbs).mul(trueProb.neg().add(1.0000001)).mean();
    return { loss: ce.add(boost).add(kl.mul(this.config.beta)), targetLogits: clean, terms: { ce, boost, kl } };
  }
}
