// Auto-PGD (Croce & Hein 2020): PGD with momentum and a step size that halves
// at fixed checkpoints when progress stalls (L-inf, L2), or with sparse steps
// whose sparsity and size adapt (L1, Croce & Hein 2021). Untargeted on CE or
// DLR (APGD-CE, APGD-DLR), targeted on the targeted DLR loss (APGD-T); with
// expectation over transformation (EOT) for randomised models.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { choosePerSample, inputGradient, perSampleL2, randomStart, unitPerSample, type Norm } from './common.js';
import {
  checkTargets,
  checkThreatModel,
  defineAttack,
  numberIn,
  oneOf,
  positiveInteger,
  runSteps,
  type AttackOptions,
  type RunStepSink,
} from './attack.js';
import { l1Projection, perSampleL0, sparseStep } from './l1.js';
import { dlrLoss, targetedDlrLoss } from './losses.js';
import { attackStillRobust, chosenOrRankedTargets, targetAndRestart, type RunOutcome, type WarningSink } from './stillRobust.js';
import { STANDARD_BUDGETS } from './versions.js';

export interface ApgdBudget extends AttackOptions {
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
  /** Gradients averaged per step, each from its own forward pass (EOT, for randomised models; default 1). */
  eot?: number;
  /** L1 only: each run goes through 3, 2, then 1 times epsilon (30%, 30%, 40% of the steps), as AutoAttack's L1 version. */
  largerEpsilons?: boolean;
}

export interface ApgdOptions extends ApgdBudget {
  loss?: 'ce' | 'dlr';
}

export interface ApgdTargetedOptions extends ApgdBudget {
  /** Target classes tried in turn: the 2nd, 3rd, ... most likely clean classes; capped at classes - 1 (default 9, as AutoAttack). */
  targets?: number;
  /** One chosen target class per point (int64 [N]) instead of the ranked ones. */
  target?: Tensor;
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
  /** Gradients averaged per step (1: plain APGD). */
  eot?: number;
  /** Told the iterations done after each. */
  onStep?: RunStepSink;
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

/** The reference's projection: onto the eps-ball (L2 as x + unit(d) * min(eps, ||d||)), then onto [0, 1]; L1 onto both at once. */
function projectApgd(a: Tensor, x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'l1') {
    const d = a.sub(x);
    return x.add(d).add(l1Projection(x, d, epsilon));
  }
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
  /** L1: the fraction of coordinates a step moves, and the sparsity of the best point at the last checkpoint. */
  sparsity: Tensor;
  sparsityAtCheck: Tensor;
}

/** Logits and per-sample loss at a point (of the last pass) and the input gradient averaged over `eot` passes. */
function evaluate(model: Module, point: Tensor, loss: PerSampleLoss, eot = 1): { logits: Tensor; loss: Tensor; grad: Tensor } {
  const input = point.detach().requiresGrad_();
  const pass = () =>
    torch.enableGrad(() => {
      const logits = model.forward(input);
      const perSample = loss(logits);
      const grad = inputGradient(perSample.sum(), input);
      return { logits: logits.detach(), loss: perSample.detach(), grad };
    });
  let at = pass();
  let sum = at.grad;
  for (let k = 1; k < eot; k++) {
    at = pass();
    sum = sum.add(at.grad);
  }
  return { ...at, grad: eot > 1 ? sum.div(eot) : sum };
}

/** L1 runs check the step every 4% of the steps. */
function l1CheckEvery(steps: number): number {
  return Math.max(Math.floor(0.04 * steps), 1);
}

/** The state before the first iteration: the start point evaluated. */
function startState(
  model: Module,
  p: { x: Tensor; y: Tensor; start: Tensor; loss: PerSampleLoss; warmStart: boolean },
  o: ApgdRunOptions,
): RunState {
  const { x, y, start, loss, warmStart } = p;
  const n = x.shape[0]!;
  const adv = start.detach().clamp(0, 1);
  const at = evaluate(model, adv, loss, o.eot);
  const features = x.numel / Math.max(n, 1);
  // L1: a random start moves 20% of the coordinates; a warm start as many as it has moved, over 1.5.
  const moved = perSampleL0(adv.sub(x)).float();
  const sparsity = warmStart ? moved.div(features).div(1.5) : torch.full([n], 0.2, { device: x.device });
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
    stepSize: torch.full([n, 1, 1, 1], (o.norm === 'l1' ? 1 : 2) * o.epsilon, { dtype: x.dtype, device: x.device }),
    lossBestAtCheck: at.loss,
    reducedAtCheck: torch.ones([n], { dtype: 'bool', device: x.device }),
    losses: [],
    lastCheck: 0,
    sparsity,
    sparsityAtCheck: warmStart ? moved : torch.full([n], features, { device: x.device }),
  };
}

/** The next iterate: L-inf/L2 a projected step with momentum, L1 a projected sparse step without. */
function nextIterate(s: RunState, x: Tensor, epsilon: number, norm: Norm, i: number): Tensor {
  if (norm === 'l1') return projectApgd(s.adv.add(sparseStep(s.grad, s.sparsity, s.stepSize)), x, epsilon, norm);
  // Momentum 0.75 on the projected step, 0.25 on the last move (the first step is plain).
  const momentum = i > 0 ? 0.75 : 1;
  const direction = norm === 'linf' ? s.grad.sign() : unitPerSample(s.grad, 'l2');
  const stepped = projectApgd(s.adv.add(direction.mul(s.stepSize)), x, epsilon, norm);
  return projectApgd(s.adv.add(stepped.sub(s.adv).mul(momentum)).add(s.adv.sub(s.previous).mul(1 - momentum)), x, epsilon, norm);
}

/**
 * The L1 checkpoint: where the best point got sparser by 5% or more since the
 * last check, the step size goes back to epsilon and the run to the best
 * point; elsewhere the step shrinks by 1.5 (down to epsilon / 10). The next
 * steps move as many coordinates as the best point has moved, over 1.5.
 */
function l1Checkpoint(s: RunState, x: Tensor, epsilon: number): RunState {
  const features = x.numel / x.shape[0]!;
  const moved = perSampleL0(s.best.sub(x)).float();
  const sparser = moved.div(s.sparsityAtCheck).lt(0.95);
  return {
    ...s,
    stepSize: choosePerSample(sparser, s.stepSize.mul(0).add(epsilon), s.stepSize.div(1.5)).clamp(epsilon / 10, epsilon),
    adv: choosePerSample(sparser, s.best, s.adv),
    grad: choosePerSample(sparser, s.gradBest, s.grad),
    sparsity: moved.div(features).div(1.5),
    sparsityAtCheck: moved,
  };
}

/**
 * One APGD run from `start` on a batch every point of which is attacked.
 * Returns per point the adversarial point (the last misclassified iterate, or
 * the start), whether it fooled the model, and the point of highest loss.
 * warmStart (L1): the start's sparsity sets the first steps' (else 20%).
 */
export function apgdRun(
  model: Module,
  x: Tensor,
  y: Tensor,
  start: Tensor,
  loss: PerSampleLoss,
  o: ApgdRunOptions,
  warmStart = false,
): { adv: Tensor; fooled: Tensor; best: Tensor } {
  const { norm, epsilon, rho } = o;
  const n = x.shape[0]!;
  const checkpoints = new Set(apgdCheckpoints(o.steps));
  const l1Every = l1CheckEvery(o.steps);
  return torch.tidy(() => {
    const final = torch.iterate(startState(model, { x, y, start, loss, warmStart }, o), o.steps, (s, i) => {
      const adv = nextIterate(s, x, epsilon, norm, i);
      const at = evaluate(model, adv, loss, o.eot);
      o.onStep?.(i + 1);
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
        losses: norm === 'l1' ? [] : [...s.losses, at.loss],
      };
      if (norm === 'l1') return (i + 1) % l1Every === 0 ? l1Checkpoint(next, x, epsilon) : next;
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
    return { adv: final.fooledAt, fooled: final.robust.logicalNot(), best: final.best };
  });
}

/**
 * AutoAttack's L1 schedule (the reference's decr_eps_pgd): from a Gaussian
 * start projected into the 3-epsilon ball, runs of 30%, 30% and 40% of the
 * steps at 3, 2 and 1 times epsilon, each from the previous run's point of
 * highest loss projected into its ball. Only the last run counts.
 */
function largerEpsilonsRun(model: Module, x: Tensor, y: Tensor, loss: PerSampleLoss, o: ApgdRunOptions): RunOutcome {
  const first = Math.ceil(0.3 * o.steps);
  const stages = [
    { scale: 3, steps: first },
    { scale: 2, steps: first },
    { scale: 1, steps: o.steps - 2 * first },
  ];
  const noise = torch.randnLike(x);
  let start = x.add(noise).add(l1Projection(x, noise, 3 * o.epsilon));
  let outcome: RunOutcome | null = null;
  let stepsBefore = 0;
  for (const { scale, steps } of stages) {
    const epsilon = scale * o.epsilon;
    start = start.add(l1Projection(x, start.sub(x), epsilon));
    const before = stepsBefore;
    const onStep = o.onStep && ((done: number) => o.onStep!(before + done));
    const run = apgdRun(model, x, y, start, loss, { ...o, epsilon, steps, onStep }, true);
    start = run.best;
    outcome = run;
    stepsBefore += steps;
  }
  return outcome!;
}

/** One APGD run from the random start (or the L1 schedule of larger epsilons). */
function apgdAttempt(
  model: Module,
  x: Tensor,
  y: Tensor,
  loss: PerSampleLoss,
  o: ApgdRunOptions & { largerEpsilons: boolean },
): RunOutcome {
  if (o.largerEpsilons) return largerEpsilonsRun(model, x, y, loss, o);
  if (o.norm !== 'l1') return apgdRun(model, x, y, randomStart(x, o.epsilon, o.norm, 'sphere'), loss, o);
  const noise = torch.randnLike(x);
  return apgdRun(model, x, y, x.add(noise).add(l1Projection(x, noise, o.epsilon)), loss, o);
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
function resolveBudget(o: ApgdBudget, who: string): ApgdRunOptions & { restarts: number; largerEpsilons: boolean } {
  checkThreatModel(o, who, ['linf', 'l2', 'l1']);
  const largerEpsilons = o.largerEpsilons ?? false;
  if (largerEpsilons && o.norm !== 'l1') throw new Error(`${who}: largerEpsilons is for norm 'l1', got norm '${o.norm}'`);
  return {
    largerEpsilons,
    eot: positiveInteger(o.eot ?? 1, 'eot', who),
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
  (model, x, y, o, onStep) =>
    attackStillRobust(model, x, y, o.restarts, (restart, xs, ys) => {
      const loss: PerSampleLoss = (z) => (o.lossName === 'ce' ? torch.crossEntropy(z, ys, { reduction: 'none' }) : dlrLoss(z, ys));
      return apgdAttempt(model, xs, ys, loss, { ...o, onStep: runSteps(onStep, o.restarts, o.steps, restart) });
    }),
);

/**
 * APGD-T: APGD on the targeted DLR loss towards the 2nd, 3rd, ... most likely
 * clean classes in turn (at most classes - 1 of them), each on the points not
 * yet fooled; or towards one chosen target per point (`target`). Needs 4+
 * classes.
 */
export const apgdTargeted = defineAttack(
  'apgdTargeted',
  (o: ApgdTargetedOptions, who) => {
    if (o.target) checkTargets(o.target, who);
    return {
      ...resolveBudget({ ...o, restarts: o.restarts ?? STANDARD_BUDGETS.restarts['apgd-t'] }, who),
      targets: o.target ? 1 : positiveInteger(o.targets ?? STANDARD_BUDGETS.targets['apgd-t'], 'targets', who),
      target: o.target,
    };
  },
  (model, x, y, o, onStep) =>
    attackStillRobust(model, x, y, o.targets * o.restarts, (k, xs, ys, index) => {
      const target = chosenOrRankedTargets(model, xs, targetAndRestart(k, o.restarts).rank, o.target, index);
      if (target === null) return null;
      const onRunStep = runSteps(onStep, o.targets * o.restarts, o.steps, k);
      return apgdAttempt(model, xs, ys, (z) => targetedDlrLoss(z, ys, target), { ...o, onStep: onRunStep });
    }),
);
