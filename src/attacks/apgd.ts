// Auto-PGD (Croce & Hein 2020), L-inf and L2: PGD with momentum and a step
// size that halves at fixed checkpoints when progress stalls. Untargeted on CE
// or DLR (APGD-CE, APGD-DLR) and targeted on the targeted DLR loss (APGD-T).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { choosePerSample, inputGradient, perSampleL2, randomStart, unitPerSample, type Norm } from './common.js';
import { checkThreatModel, defineAttack, numberIn, oneOf, positiveInteger, type SeedOption } from './attack.js';
import { dlrLoss, targetedDlrLoss } from './losses.js';
import { attackStillRobust, rankedClasses, targetAndRestart, type WarningSink } from './stillRobust.js';
import { STANDARD_BUDGETS } from './versions.js';

export interface ApgdBudget extends SeedOption {
  norm: Norm;
  epsilon: number;
  /** Iterations per run (100 in AutoAttack, the default). */
  steps?: number;
  /** Restarts; each later restart attacks only the points not yet fooled. */
  restarts?: number;
  /** A step is halved when the loss grew in at most this fraction of the steps since the last checkpoint. */
  rho?: number;
  /** Told about points with an all-zero input gradient at the start (a gradient-masking hint). */
  onWarning?: WarningSink;
}

export interface ApgdOptions extends ApgdBudget {
  loss?: 'ce' | 'dlr';
}

export interface ApgdTargetedOptions extends ApgdBudget {
  /** Target classes tried in turn: the 2nd, 3rd, ... most likely clean classes; capped at classes - 1 (default 9, as AutoAttack). */
  targets?: number;
}

/** Per-sample loss of the logits (labels and, for targeted losses, targets bound in). */
type PerSampleLoss = (logits: Tensor) => Tensor;

/** The parameters of one APGD run (apgdRun). */
export interface ApgdRunOptions {
  norm: Norm;
  epsilon: number;
  steps: number;
  rho: number;
  onWarning?: WarningSink;
}

/**
 * The iterations after which step sizes are checked: p_0 = 0, p_1 = 0.22,
 * p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06), as whole iterations
 * (22, 41, 57, 70, 80, 87, 93, 99 for 100).
 */
export function apgdCheckpoints(steps: number): number[] {
  const first = Math.max(Math.floor(0.22 * steps), 1);
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const shortest = Math.max(Math.floor(0.06 * steps), 1);
  const out: number[] = [];
  for (let at = first, gap = first; at <= steps; gap = Math.max(gap - shrink, shortest), at += gap) out.push(at);
  return out;
}

/** The reference's projection: onto the eps-ball (L2 as x + unit(d) * min(eps, ||d||)), then onto [0, 1]. */
function projectApgd(a: Tensor, x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return a.clamp(x.sub(epsilon), x.add(epsilon)).clamp(0, 1);
  const d = a.sub(x);
  return x.add(unitPerSample(d, 'l2').mul(perSampleL2(d).clamp(null, epsilon))).clamp(0, 1);
}

interface RunState {
  adv: Tensor;
  previous: Tensor;
  grad: Tensor;
  best: Tensor;
  gradBest: Tensor;
  lossBest: Tensor;
  /** The last iterate found misclassified (the start point until one is). */
  fooledAt: Tensor;
  robust: Tensor;
  stepSize: Tensor;
  lossBestAtCheck: Tensor;
  reducedAtCheck: Tensor;
  /** The per-sample losses the next oscillation count reads: from the iteration before the last checkpoint on. */
  losses: Tensor[];
  /** The iteration of the last checkpoint (0 before the first). */
  lastCheck: number;
}

/** Logits, per-sample loss and input gradient at a point. */
function evaluate(model: Module, point: Tensor, loss: PerSampleLoss): { logits: Tensor; loss: Tensor; grad: Tensor } {
  const input = point.detach().requiresGrad_();
  return torch.enableGrad(() => {
    const logits = model.forward(input);
    const perSample = loss(logits);
    const grad = inputGradient(perSample.sum(), input);
    return { logits: logits.detach(), loss: perSample.detach(), grad };
  });
}

/** The state before the first iteration: the start point evaluated. */
function startState(model: Module, x: Tensor, y: Tensor, start: Tensor, loss: PerSampleLoss, o: ApgdRunOptions): RunState {
  const n = x.shape[0]!;
  const adv = start.detach().clamp(0, 1);
  const at = evaluate(model, adv, loss);
  const zero = at.grad.flatten(1).abs().sum(1).eq(0).sum().item();
  if (zero > 0)
    o.onWarning?.(
      `${zero} of ${n} points have an all-zero input gradient at the start; gradient-based attacks may be unreliable (gradient masking)`,
    );
  return {
    adv,
    previous: adv,
    grad: at.grad,
    best: adv,
    gradBest: at.grad,
    lossBest: at.loss,
    fooledAt: adv,
    robust: at.logits.argmax(1).eq(y),
    stepSize: torch.full([n, 1, 1, 1], 2 * o.epsilon, { dtype: x.dtype, device: x.device }),
    lossBestAtCheck: at.loss,
    reducedAtCheck: torch.ones([n], { dtype: 'bool', device: x.device }),
    losses: [],
    lastCheck: 0,
  };
}

/**
 * One APGD run from `start` on a batch every point of which is attacked.
 * Returns per point the adversarial point (the last misclassified iterate, or
 * the start) and whether it fooled the model.
 */
export function apgdRun(
  model: Module,
  x: Tensor,
  y: Tensor,
  start: Tensor,
  loss: PerSampleLoss,
  o: ApgdRunOptions,
): { adv: Tensor; fooled: Tensor } {
  const { norm, epsilon, rho } = o;
  const n = x.shape[0]!;
  const checkpoints = new Set(apgdCheckpoints(o.steps));
  return torch.tidy(() => {
    const final = torch.iterate(startState(model, x, y, start, loss, o), o.steps, (s, i) => {
      // Momentum 0.75 on the projected step, 0.25 on the last move (the first step is plain).
      const momentum = i > 0 ? 0.75 : 1;
      const direction = norm === 'linf' ? s.grad.sign() : unitPerSample(s.grad, 'l2');
      const stepped = projectApgd(s.adv.add(direction.mul(s.stepSize)), x, epsilon, norm);
      const adv = projectApgd(s.adv.add(stepped.sub(s.adv).mul(momentum)).add(s.adv.sub(s.previous).mul(1 - momentum)), x, epsilon, norm);
      const at = evaluate(model, adv, loss);
      const correct = at.logits.argmax(1).eq(y);
      const improved = at.loss.gt(s.lossBest);
      const next: RunState = {
        ...s,
        adv,
        previous: s.adv,
        grad: at.grad,
        robust: s.robust.logicalAnd(correct),
        fooledAt: choosePerSample(correct.logicalNot(), adv, s.fooledAt),
        best: choosePerSample(improved, adv, s.best),
        gradBest: choosePerSample(improved, at.grad, s.gradBest),
        lossBest: torch.where(improved, at.loss, s.lossBest),
        losses: [...s.losses, at.loss],
      };
      if (!checkpoints.has(i + 1)) return next;
      // Halve the step and go back to the best point where the loss rarely rose since the last
      // checkpoint, or where the step was kept last time and the best loss has not improved since.
      const k = i + 1 - s.lastCheck;
      const rises = countRises(next.losses, k, n, x.device);
      const stalled = s.reducedAtCheck.logicalNot().logicalAnd(s.lossBestAtCheck.ge(next.lossBest));
      const reduce = rises.le(k * rho).logicalOr(stalled);
      return {
        ...next,
        stepSize: choosePerSample(reduce, next.stepSize.div(2), next.stepSize),
        adv: choosePerSample(reduce, next.best, next.adv),
        grad: choosePerSample(reduce, next.gradBest, next.grad),
        reducedAtCheck: reduce,
        lossBestAtCheck: next.lossBest,
        lastCheck: i + 1,
        losses: [at.loss], // the next count compares with this iteration's loss first
      };
    });
    return { adv: final.fooledAt, fooled: final.robust.logicalNot() };
  });
}

/**
 * How many of the last k steps raised the loss, per sample; `losses` ends with
 * those k losses, after the one before them where there is one. Like the
 * reference, the step before the first compares with a zero loss (its
 * wrap-around read of a zero-initialised buffer), which matters only at the
 * first checkpoint.
 */
function countRises(losses: Tensor[], k: number, n: number, device: string): Tensor {
  const last = losses.length - 1;
  let count = torch.zeros([n], { device });
  for (let c = 0; c < k; c++) {
    const before = last - c - 1 >= 0 ? losses[last - c - 1]! : torch.zeros([n], { device });
    count = count.add(losses[last - c]!.gt(before).float());
  }
  return count;
}

/** The checked budget of an APGD attack, defaults from AutoAttack's standard version. */
function resolveBudget(o: ApgdBudget, who: string): ApgdRunOptions & { restarts: number } {
  checkThreatModel(o, who);
  return {
    norm: o.norm,
    epsilon: o.epsilon,
    steps: positiveInteger(o.steps ?? STANDARD_BUDGETS.steps, 'steps', who),
    restarts: positiveInteger(o.restarts ?? STANDARD_BUDGETS.restarts['apgd-ce'], 'restarts', who),
    rho: numberIn(o.rho ?? 0.75, 0, 1, 'rho', who, true),
    onWarning: o.onWarning,
  };
}

/**
 * APGD-CE (or APGD-DLR with loss 'dlr'): returns a detached batch holding, for
 * each point, an adversarial example where one was found, else x. Only points
 * the model classifies correctly are attacked; each restart attacks those not yet fooled.
 */
export const apgd = defineAttack(
  'apgd',
  (o: ApgdOptions, who) => {
    const budget = resolveBudget(o, who);
    const lossName = oneOf(o.loss ?? 'ce', ['ce', 'dlr'], 'loss', who);
    // The reference checks gradients on DLR runs only.
    return { ...budget, lossName, onWarning: lossName === 'dlr' ? o.onWarning : undefined };
  },
  (model, x, y, o) =>
    attackStillRobust(model, x, y, o.restarts, (_, xs, ys) => {
      const loss: PerSampleLoss = (z) => (o.lossName === 'ce' ? torch.crossEntropy(z, ys, { reduction: 'none' }) : dlrLoss(z, ys));
      return apgdRun(model, xs, ys, randomStart(xs, o.epsilon, o.norm, 'sphere'), loss, o);
    }),
);

/**
 * APGD-T: APGD on the targeted DLR loss towards the 2nd, 3rd, ... most likely
 * clean classes in turn (at most classes - 1 of them), each on the points not
 * yet fooled. Needs 4+ classes.
 */
export const apgdTargeted = defineAttack(
  'apgdTargeted',
  (o: ApgdTargetedOptions, who) => ({
    ...resolveBudget({ ...o, restarts: o.restarts ?? STANDARD_BUDGETS.restarts['apgd-t'] }, who),
    targets: positiveInteger(o.targets ?? STANDARD_BUDGETS.targets, 'targets', who),
  }),
  (model, x, y, o) =>
    attackStillRobust(model, x, y, o.targets * o.restarts, (k, xs, ys) => {
      const target = rankedClasses(model, xs, targetAndRestart(k, o.restarts).rank);
      if (target === null) return null;
      return apgdRun(model, xs, ys, randomStart(xs, o.epsilon, o.norm, 'sphere'), (z) => targetedDlrLoss(z, ys, target), o);
    }),
);
