// The bookkeeping of attacks made of several runs (restarts, targets): each run
// attacks only the points of the batch not yet fooled and writes what it found back.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';

export type WarningSink = (message: string) => void;

/** What one run found on the points it was given. */
export interface RunOutcome {
  adv: Tensor;
  fooled: Tensor;
}

export class StillRobust {
  /** Per point: the adversarial example found so far, else the clean point. */
  adv: Tensor;
  /** Per point: the model is right on the clean point and nothing fooled it yet. */
  robust: Tensor;

  /** Starts from the clean batch: robust where the model classifies it correctly. */
  constructor(private readonly model: Module, private readonly x: Tensor, private readonly y: Tensor) {
    this.adv = x.detach().clone();
    this.robust = torch.noGrad(() => model.forward(x).argmax(1).eq(y));
  }

  /**
   * Runs `attack` on the points still robust (nothing when none is left, or
   * when it returns null) and records those it fooled.
   */
  run(attack: (xs: Tensor, ys: Tensor) => RunOutcome | null): void {
    // Each run in its own scope: only the updated batch and flags outlive it.
    const next = torch.tidy(() => {
      const index = this.robust.nonzero().flatten();
      if (index.numel === 0) return null;
      const outcome = attack(this.x.indexSelect(0, index), this.y.indexSelect(0, index));
      if (outcome === null) return null;
      const fooled = index.maskedSelect(outcome.fooled);
      if (fooled.numel === 0) return null;
      const found = outcome.adv.indexSelect(0, outcome.fooled.nonzero().flatten());
      return {
        adv: this.adv.indexCopy(0, fooled, found.to(this.adv.dtype)),
        robust: this.robust.indexCopy(0, fooled, torch.zeros([fooled.numel], { dtype: 'bool', device: this.robust.device })),
      };
    });
    if (next === null) return;
    this.adv.dispose();
    this.robust.dispose();
    ({ adv: this.adv, robust: this.robust } = next);
  }

  /** Whether some point is still robust. */
  get anyLeft(): boolean {
    return this.robust.sum().item() > 0;
  }
}

/** The index of the (rank + 1)-th most likely class of each point (rank 1: the runner-up), or null when there are too few classes. */
export function rankedClasses(model: Module, x: Tensor, rank: number): Tensor | null {
  const logits = torch.noGrad(() => model.forward(x));
  if (rank >= logits.shape[1]!) return null;
  return logits.sort(1, true).indices.select(1, rank).contiguous();
}
