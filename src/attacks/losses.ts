// Losses the attacks maximise.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';

export type AttackLoss = 'ce' | 'margin';

/** Margin (CW) loss per sample: max_{j != y} z_j - z_y (positive once misclassified). */
export function marginLoss(logits: Tensor, y: Tensor): Tensor {
  const trueLogit = logits.gather(1, y.unsqueeze(1)).squeeze(1);
  const others = logits.scatter(1, y.unsqueeze(1), -Infinity).amax(1);
  return others.sub(trueLogit);
}

/** The summed attack loss of a batch (a sum, so each sample's gradient is its own). */
export function attackLoss(kind: AttackLoss, logits: Tensor, y: Tensor): Tensor {
  return kind === 'ce' ? torch.crossEntropy(logits, y, { reduction: 'sum' }) : marginLoss(logits, y).sum();
}

/** sum_i KL(p_ref_i || softmax(logits_i)) with the reference probabilities held constant. */
export function klFromReference(referenceProbs: Tensor, logits: Tensor): Tensor {
  return torch.klDiv(logits.logSoftmax(1), referenceProbs, { reduction: 'sum' });
}
