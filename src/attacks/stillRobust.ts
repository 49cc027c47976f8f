// The bookkeeping of attacks made of several runs (restarts, targets): each run
// attacks only the points of the batch not yet fooled and writes what it found
// back. The runs are steps of the loop idiom (torch.iterate).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';

export type WarningSink = (message: string) => void;

/** What one run found on the points it was given. */
export interface RunOutcome {
  adv: Tensor;
  fooled: Tensor;
}

/**
 * One run on the still-robust points xs (labels ys; index: their rows in the
 * batch, int64); null when it has nothing to try (too few classes).
 */
export type StillRobustRun = (k: number, xs: Tensor, ys: Tensor, index: Tensor) => RunOutcome | null;

interface RobustState {
  /** Per point: the adversarial example found so far, else the clean point. */
  adv: Tensor;
  /** Per point: the model is right on the clean point and nothing fooled it yet. */
  robust: Tensor;
}

/**
 * Runs `runs` runs in turn, run k on the points of (x, y) the model still
 * classifies correctly (right on the clean point and fooled by no earlier run);
 * stops early once none is left. Returns x with every fooled point replaced by
 * the example that first fooled it. Call with the model in eval mode.
 */
export function attackStillRobust(model: Module, x: Tensor, y: Tensor, runs: number, run: StillRobustRun): Tensor {
  const start: RobustState = { adv: x.detach().clone(), robust: torch.noGrad(() => model.forward(x).argmax(1).eq(y)) };
  const final = torch.iterate(start, runs, (s, k) => {
    const index = s.robust.nonzero().flatten();
    if (index.numel === 0) return torch.STOP;
    const outcome = run(k, x.indexSelect(0, index), y.indexSelect(0, index), index);
    if (outcome === null) return s;
    const fooled = index.maskedSelect(outcome.fooled);
    if (fooled.numel === 0) return s;
    const found = outcome.adv.indexSelect(0, outcome.fooled.nonzero().flatten());
    return {
      adv: s.adv.indexCopy(0, fooled, found.to(s.adv.dtype)),
      robust: s.robust.indexCopy(0, fooled, torch.zeros([fooled.numel], { dtype: 'bool', device: s.robust.device })),
    };
  });
  return final.adv;
}

/** The index of the (rank + 1)-th most likely class of each point (rank 1: the runner-up), or null when there are too few classes. */
export function rankedClasses(model: Module, x: Tensor, rank: number): Tensor | null {
  const logits = torch.noGrad(() => model.forward(x));
  if (rank >= logits.shape[1]!) return null;
  return logits.sort(1, true).indices.select(1, rank).contiguous();
}

/** Run k of `targets` targets with `restarts` restarts each: its target rank (1: the runner-up) and restart. */
export function targetAndRestart(k: number, restarts: number): { rank: number; restart: number } {
  return { rank: 1 + Math.floor(k / restarts), restart: k % restarts };
}

/**
 * The targets of a targeted run on the rows `index` of a batch: the chosen
 * ones (one per batch row) where given, else the (rank + 1)-th most likely
 * classes of xs (null when there are too few classes).
 */
export function chosenOrRankedTargets(model: Module, xs: Tensor, rank: number, chosen: Tensor | undefined, index: Tensor): Tensor | null {
  return chosen ? chosen.to(xs.device).indexSelect(0, index) : rankedClasses(model, xs, rank);
}
