// The losses attacks maximise, each summed over the batch so that the gradient
// of one sample does not depend on the batch size.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';

export type AttackLoss = 'ce' | 'margin';

/** The CW margin per sample: z_y - max_{j != y} z_j (negative once misclassified). */
export function marginLoss(logits: Tensor, y: Tensor): Tensor {
  const trueClass = y.unsqueeze(1);
  const trueLogit = logits.gather(1, trueClass).squeeze(1);
  const bestOther = logits.scatter(1, trueClass, -Infinity).amax(1);
  return trueLogit.sub(bestOther);
}

/** Summed cross-entropy of the batch. */
export function crossEntropySum(logits: Tensor, y: Tensor): Tensor {
  return torch.crossEntropy(logits, y, { reduction: 'sum' });
}

/** The objective an attack ascends: summed CE, or the summed negative margin (the CW attack lowers the margin). */
export function attackObjective(kind: AttackLoss, logits: Tensor, y: Tensor): Tensor {
  return kind === 'ce' ? crossEntropySum(logits, y) : marginLoss(logits, y).sum().neg();
}

/**
 * KL to a clean prediction, as the CAG/TRADES reference codes write it:
 * sum_{i,c} p_ref[i,c] * (log(p_ref[i,c] + 1e-5) - log_softmax(logits)[i,c]),
 * with p_ref constant (TRADES: the model's own clean prediction; CAG: the guidance model's).
 */
export function klToReference(referenceProbs: Tensor, logits: Tensor): Tensor {
  return referenceProbs.mul(referenceProbs.add(1e-5).log().sub(logits.logSoftmax(1))).sum();
}

/** Logits sorted per sample in descending order (z_pi1 >= z_pi2 >= ...). */
function descending(logits: Tensor): Tensor {
  return logits.sort(1, true).values;
}

/**
 * Croce & Hein's difference-of-logits ratio per sample:
 * -(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12). Scale-invariant; needs 3+ classes.
 */
export function dlrLoss(logits: Tensor, y: Tensor): Tensor {
  checkClasses(logits, 3, 'DLR loss');
  const sorted = descending(logits);
  return marginLoss(logits, y)
    .neg()
    .div(sorted.select(1, 0).sub(sorted.select(1, 2)).add(1e-12));
}

/** Targeted DLR per sample: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12); needs 4+ classes. */
export function targetedDlrLoss(logits: Tensor, y: Tensor, target: Tensor): Tensor {
  checkClasses(logits, 4, 'targeted DLR loss');
  const sorted = descending(logits);
  const at = (labels: Tensor): Tensor => logits.gather(1, labels.unsqueeze(1)).squeeze(1);
  const scale = sorted
    .select(1, 0)
    .sub(sorted.select(1, 2).add(sorted.select(1, 3)).mul(0.5))
    .add(1e-12);
  return at(y).sub(at(target)).neg().div(scale);
}

function checkClasses(logits: Tensor, needed: number, what: string): void {
  const classes = logits.shape[1] ?? 0;
  if (classes < needed) throw new Error(`${what} needs at least ${needed} classes, the model has ${classes}`);
}
