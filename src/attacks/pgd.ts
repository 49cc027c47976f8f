// Projected gradient descent (Madry et al. 2018): L-inf or L2; CE, margin or
// KL-to-clean loss, or targeted (descending the CE to a chosen class per point,
// as torchattacks' targeted mode); uniform / Gaussian / no random start; early
// stop per point; restarts keeping the per-point worst case.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { choosePerSample, gaussianStart, randomStart } from './common.js';
import { checkBudget, checkTargets, defineAttack, oneOf, positiveInteger, runSteps, type AttackOptions } from './attack.js';
import { projectedAscent, type StepBudget } from './ascent.js';
import { attackObjective, crossEntropySum, klToReference, type AttackLoss } from './losses.js';

export type RandomStart = 'uniform' | 'gaussian' | 'none';

export interface PgdOptions extends StepBudget, AttackOptions {
  /** ce, margin (CW), or kl: KL from the model's own clean prediction (TRADES' inner loss). */
  loss?: AttackLoss | 'kl';
  /** A point stops moving at the first iterate that fools the model. */
  earlyStop?: boolean;
  /** uniform: uniform in the threat model; gaussian: x + 0.001 N(0, I); none: x itself. */
  randomStart?: RandomStart;
  restarts?: number;
  /** The start of the first restart instead of a random one (tests, warm starts). */
  init?: Tensor;
  /** Targeted: one class per point (int64 [N]); the attack descends the CE to it (loss must be 'ce'). */
  target?: Tensor;
}

function resolve(o: PgdOptions, who: string) {
  checkBudget(o, who);
  if (o.target) {
    checkTargets(o.target, who);
    if ((o.loss ?? 'ce') !== 'ce') throw new Error(`${who}: a target needs loss 'ce', got '${o.loss}'`);
  }
  return {
    target: o.target,
    budget: { epsilon: o.epsilon, stepSize: o.stepSize, steps: o.steps, norm: o.norm ?? 'linf' } as const,
    restarts: positiveInteger(o.restarts ?? 1, 'restarts', who),
    loss: oneOf(o.loss ?? 'ce', ['ce', 'margin', 'kl'], 'loss', who),
    start: oneOf(o.randomStart ?? 'uniform', ['uniform', 'gaussian', 'none'], 'randomStart', who),
    earlyStop: o.earlyStop ?? false,
    init: o.init,
  };
}

type Resolved = ReturnType<typeof resolve>;

function startPoint(x: Tensor, o: Resolved): Tensor {
  if (o.start === 'uniform') return randomStart(x, o.budget.epsilon, o.budget.norm, 'ball');
  if (o.start === 'gaussian') return gaussianStart(x);
  return x.detach();
}

/** The objective and the early-stop test of a PGD run (KL's clean prediction computed once). */
function objectives(
  model: Module,
  x: Tensor,
  y: Tensor,
  o: Resolved,
): { objective: (input: Tensor) => Tensor; stopWhere?: (input: Tensor) => Tensor } {
  const clean = o.loss === 'kl' ? torch.noGrad(() => model.forward(x).softmax(1)) : null;
  const target = o.target;
  return {
    objective: (input) => {
      if (target) return crossEntropySum(model.forward(input), target.to(x.device)).neg();
      return clean ? klToReference(clean, model.forward(input)) : attackObjective(o.loss as AttackLoss, model.forward(input), y);
    },
    stopWhere: o.earlyStop ? (input) => torch.noGrad(() => model.forward(input).argmax(1).ne(y)) : undefined,
  };
}

/**
 * Ascends the loss from the chosen start. With restarts, a point keeps the
 * first restart that fools the model (else the last one). Returns a detached
 * batch; the model runs in eval mode and gets its previous mode back.
 */
export const pgd = defineAttack('pgd', resolve, (model, x, y, o, onStep) => {
  const { objective, stopWhere } = objectives(model, x, y, o);
  // The first restart starts at init when given.
  const ascend = (restart: number): Tensor =>
    projectedAscent(
      x,
      restart === 0 && o.init ? o.init : startPoint(x, o),
      objective,
      o.budget,
      stopWhere,
      runSteps(onStep, o.restarts, o.budget.steps, restart),
    );
  if (o.restarts === 1) return ascend(0);
  const start = { best: x.detach(), fooled: torch.zeros([x.shape[0]!], { dtype: 'bool', device: x.device }) };
  return torch.iterate(start, o.restarts, (s, r) => {
    const adv = ascend(r);
    const wrong = torch.noGrad(() => model.forward(adv).argmax(1).ne(y));
    return { best: choosePerSample(s.fooled.logicalNot(), adv, s.best), fooled: s.fooled.logicalOr(wrong) };
  }).best;
});
