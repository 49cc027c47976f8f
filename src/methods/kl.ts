// The divergences the training losses share, each with its reduction stated.
// Arguments: log-probabilities of the second distribution, probabilities of the first.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * D2R's element-mean divergence k(a, b) = mean over all B*C entries of
 * b * (log(b + 1e-5) - a): KL(b || exp a) / C, averaged over the batch.
 */
export function elementMeanKl(logProbs: Tensor, probs: Tensor): Tensor {
  return probs.mul(probs.add(1e-5).log().sub(logProbs)).mean();
}

/** (1/B) sum_i KL(p_i || q_i) from q's log-probabilities and p's probabilities (F.kl_div 'batchmean'). */
export function batchMeanKl(logQ: Tensor, p: Tensor): Tensor {
  return torch.klDiv(logQ, p, { reduction: 'batchmean' });
}

/** KL(p_i || q_i) per sample, a [B] tensor. */
export function perSampleKl(logQ: Tensor, p: Tensor): Tensor {
  return torch.klDiv(logQ, p, { reduction: 'none' }).sum(1);
}
