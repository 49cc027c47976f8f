// The divergences the methods share, each with its reduction stated.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * D2R's element-mean divergence k(a, b) = mean over all B*C entries of
 * b * (log(b + 1e-5) - a), with a log-probabilities and b probabilities:
 * KL(b || exp a) / C, averaged over the batch.
 */
export function elementMeanKl(logProbs: Tensor, probs: Tensor): Tensor {
  return probs.mul(probs.add(1e-5).log().sub(logProbs)).mean();
}

/** (1/B) sum_i KL(p_i || q_i) from p's probabilities and q's log-probabilities (batchmean). */
export function batchMeanKl(logQ: Tensor, p: Tensor): Tensor {
  return torch.klDiv(logQ, p, { reduction: 'batchmean' });
}

/** Per-sample KL(p_i || q_i) as a [B] tensor. */
export function perSampleKl(logQ: Tensor, p: Tensor): Tensor {
  return torch.klDiv(logQ, p, { reduction: 'none' }).sum(1);
}
