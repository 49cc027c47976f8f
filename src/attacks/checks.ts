// The sanity checks AutoAttack's reference runs around an evaluation. Each
// returns a warning (or null): they flag evaluations likely to overstate
// robustness, they do not stop them.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';

/** Five forward passes of one batch must agree: a randomised defence needs an EOT evaluation. */
export function randomizedModelWarning(model: Module, x: Tensor, y: Tensor, passes = 5, tolerance = 1e-4): string | null {
  return torch.tidy(() =>
    torch.noGrad(() => {
      const outputs = Array.from({ length: passes }, () => model.forward(x));
      const unit = outputs.map((z) => z.div(z.norm(2, 1, true).add(1e-10)));
      const correct = outputs.map((z) => z.argmax(1).eq(y).sum().item());
      let spread = 0;
      for (let a = 0; a < passes; a++)
        for (let b = a + 1; b < passes; b++) spread = Math.max(spread, unit[a]!.sub(unit[b]!).norm(2, 1).amax().item());
      if (correct.every((c) => c === correct[0]) && spread <= tolerance) return null;
      return `the model looks randomised: ${passes} forward passes of the same batch disagree (largest difference of normalised outputs ${spread.toExponential(2)}); deterministic attacks overstate its robustness, evaluate it with expectation over transformation`;
    }),
  );
}

/** Outputs in [0, 1] that sum to 1 look like probabilities: attacks need logits (softmax saturates the gradients). */
export function probabilityOutputWarning(model: Module, x: Tensor, tolerance = 1e-5): string | null {
  return torch.tidy(() =>
    torch.noGrad(() => {
      const z = model.forward(x);
      const sumsToOne = z.sum(-1).sub(1).abs().amax().item() < tolerance;
      if (!(z.amax().item() < 1 + tolerance && z.amin().item() > -tolerance && sumsToOne)) return null;
      return 'the model outputs look like probabilities (in [0, 1], summing to 1): give the attacks the logits, before any softmax';
    }),
  );
}

/** What the number of classes rules out: DLR needs 3, targeted DLR 4, and each targeted attack at most classes - 1 targets. */
export function classCountWarnings(
  classes: number,
  attacks: readonly string[],
  targets: Readonly<Record<'apgd-t' | 'fab-t', number>>,
): string[] {
  const out: string[] = [];
  if (attacks.includes('apgd-dlr') && classes < 3)
    out.push(`apgd-dlr skipped: the DLR loss needs at least 3 classes, the model has ${classes}`);
  if (attacks.includes('apgd-t') && classes < 4)
    out.push(`apgd-t skipped: the targeted DLR loss needs at least 4 classes, the model has ${classes}`);
  for (const name of ['apgd-t', 'fab-t'] as const) {
    if (attacks.includes(name) && classes >= 2 && targets[name] > classes - 1 && !(name === 'apgd-t' && classes < 4)) {
      out.push(`${name}: ${targets[name]} target classes asked for but the model has ${classes} classes; using ${classes - 1}`);
    }
  }
  return out;
}

/**
 * Square is a black-box attack: when it lowers robust accuracy by more than
 * `tolerance` below what the white-box attacks reached, their gradients were
 * probably misleading (gradient masking).
 */
export function squareWarning(
  cleanAccuracy: number,
  outcomes: { name: string; robustAccuracy: number }[],
  tolerance = 0.002,
): string | null {
  const square = outcomes.find((a) => a.name === 'square');
  const before = outcomes.filter((a) => a.name !== 'square').map((a) => a.robustAccuracy);
  if (!square || before.length === 0) return null;
  const whiteBox = Math.min(cleanAccuracy, ...before);
  if (!(square.robustAccuracy < whiteBox - tolerance)) return null;
  return `Square lowered robust accuracy by ${(100 * (whiteBox - square.robustAccuracy)).toFixed(2)} points below the white-box attacks: the gradient-based evaluation may be unreliable (gradient masking); run Square with more queries and restarts, or an adaptive attack`;
}
