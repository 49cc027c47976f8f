// FAB: the Fast Adaptive Boundary attack (Croce & Hein 2020) as AutoAttack
// runs it, targeted (FAB-T, "standard") and untargeted (FAB, "plus"). Each
// iteration linearises z_t - z_y at the current point (untargeted: for the
// class t whose linearised boundary is closest), projects both the current point and the clean point onto that
// hyperplane inside the [0, 1] box, and moves to a mix of the two (biased to the
// current one, with overshoot); after a success it steps back towards the clean
// point so the next iterations look for a closer adversarial example.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { choosePerSample, inputGradient, perSampleNorm, project, randomStart, type Norm } from './common.js';
import {
  checkTargets,
  checkThreatModel,
  defineAttack,
  nonNegativeInteger,
  numberIn,
  positiveInteger,
  runSteps,
  type AttackOptions,
  type RunStepSink,
} from './attack.js';
import { attackStillRobust, chosenOrRankedTargets, targetAndRestart, type RunOutcome } from './stillRobust.js';
import { STANDARD_BUDGETS } from './versions.js';

export interface FabOptions extends AttackOptions {
  norm: Norm;
  epsilon: number;
  /** Iterations per target (default 100, as AutoAttack). */
  steps?: number;
  /** Number of target classes (default 9, as AutoAttack; capped at numClasses - 1); the k-th is the (k+1)-th most likely clean class. */
  targets?: number;
  /** Runs per target (default 1); the first starts at the clean point, later ones at a random point. */
  restarts?: number;
  /** Largest weight of the clean point's projection in the step (default 0.1). */
  alphaMax?: number;
  /** Overshoot of the projection step (default 1.05). */
  eta?: number;
  /** Step back towards the clean point after a success (default 0.9). */
  beta?: number;
}

export interface FabTargetedOptions extends FabOptions {
  /** One chosen target class per point (int64 [N]) instead of the ranked ones. */
  target?: Tensor;
}

/** The parameters of one FAB run (fabTargetedRun). */
export interface FabRunOptions {
  norm: Norm;
  steps: number;
  alphaMax: number;
  eta: number;
  beta: number;
  /** Told the iterations done after each. */
  onStep?: RunStepSink;
}

/** What one run leaves: the smallest adversarial point found per sample (x0 where none), and the last iterate. */
export interface FabRun {
  best: Tensor;
  /** Bool [N]: a misclassified point was found. */
  found: Tensor;
  /** The norm of best - x0 (1e10 where nothing was found, as the reference). */
  bestNorm: Tensor;
  iterate: Tensor;
}

const NOT_FOUND = 1e10;

function resolveOptions(o: FabOptions, who: string): FabRunOptions & { epsilon: number; targets: number; restarts: number } {
  checkThreatModel(o, who);
  const eta = o.eta ?? 1.05;
  if (!(Number.isFinite(eta) && eta > 0)) throw new Error(`${who}: eta must be a finite number > 0, got ${eta}`);
  return {
    norm: o.norm,
    epsilon: o.epsilon,
    eta,
    steps: nonNegativeInteger(o.steps ?? STANDARD_BUDGETS.steps, 'steps', who),
    alphaMax: numberIn(o.alphaMax ?? 0.1, 0, 1, 'alphaMax', who),
    beta: numberIn(o.beta ?? 0.9, 0, 1, 'beta', who),
    targets: positiveInteger(o.targets ?? STANDARD_BUDGETS.targets['fab-t'], 'targets', who),
    restarts: positiveInteger(o.restarts ?? STANDARD_BUDGETS.restarts['fab-t'], 'restarts', who),
  };
}

/** ceil(log2(n)): the binary searches need this many halvings of [0, n - 1]. */
function halvings(n: number): number {
  let k = 0;
  while (2 ** k < n) k++;
  return k;
}

/**
 * Row-wise binary search over column indices 0..dim-1: keeps lo where
 * `above(mid)` holds and hi where it does not (the same fixed number of
 * halvings for every row, as the reference).
 */
export function searchColumns(n: number, dim: number, device: string, above: (mid: Tensor) => Tensor): Tensor {
  const start = { lo: torch.zeros([n], { dtype: 'int64', device }), hi: torch.full([n], dim - 1, { dtype: 'int64', device }) };
  const { lo } = torch.iterate(start, halvings(dim), ({ lo, hi }) => {
    const mid = lo.add(hi).floorDivide(2);
    const c = above(mid.unsqueeze(1));
    return { lo: torch.where(c, mid, lo), hi: torch.where(c, hi, mid) };
  });
  return lo.unsqueeze(1);
}

/**
 * The smallest L-inf step d per row with w·(t + d) = b and t + d in [0, 1]^D;
 * where the box cannot reach the hyperplane, the step to the box corner that
 * gets closest. points, w: [n, D]; b: [n]. Returns d, [n, D] (0 where w is 0).
 * Every case is computed for every row and the right one picked per row, which
 * gives the reference's values without its row subsets.
 */
export function projectionLinf(points: Tensor, wIn: Tensor, bIn: Tensor): Tensor {
  return torch.tidy(() => {
    const [n, dim] = points.shape as [number, number];
    const dt = points.dtype;
    // Orient each hyperplane so that its point lies on the side w·t >= b: the step then lowers w·t.
    const side = wIn.mul(points).sum(1).sub(bIn).ge(0).to(dt).mul(2).sub(1);
    const w = wIn.mul(side.unsqueeze(1));
    const b = bIn.mul(side);
    const used = w.ne(0).to(dt);
    // a: the face each coordinate moves to (1 where w < 0, else 0); room: how far it can move.
    const a = w.lt(0).to(dt);
    const corner = a.sub(points).mul(used);
    const room = a.sub(points.mul(a.mul(2).sub(1)));
    const byRoom = room.sort(1).indices;
    const need = b.sub(w.mul(points).sum(1)); // the change of w·t the step must make (<= 0)
    const atCorner = w.mul(corner).sum(1); // the change the whole box allows
    // Coordinates by decreasing room: s[k] = |w| mass of the first k+1 (still free to move),
    // sb[k] = change made by the others, all at their faces.
    const desc = byRoom.flip([1]);
    const wDesc = w.gather(1, desc);
    const s = wDesc.abs().cumsum(1);
    const sb = wDesc.neg().mul(corner.gather(1, desc)).cumsum(1).add(atCorner.unsqueeze(1));
    const sAll = s.select(1, dim - 1);
    const sbAll = sb.select(1, dim - 1);
    // Every coordinate moves by the same lambda when even the one with least room is not capped.
    const leastRoom = room.gather(1, byRoom.narrow(1, 0, 1)).squeeze(1);
    const noneCapped = need.sub(sbAll.sub(sAll.mul(leastRoom))).gt(0);
    const someCapped = need.sub(atCorner).gt(0).logicalAnd(noneCapped.logicalNot());
    const k = searchColumns(n, dim, points.device, (mid) => {
      const roomAt = room.gather(1, desc.gather(1, mid));
      const reach = sb.gather(1, mid).sub(s.gather(1, mid).mul(roomAt)).squeeze(1);
      return need.sub(reach).gt(0);
    });
    const lambdaFree = need.sub(sbAll).div(sAll.neg()).clamp(0, null).unsqueeze(1);
    const stepFree = a.mul(2).sub(1).mul(lambdaFree);
    const lambda = need.unsqueeze(1).sub(sb.gather(1, k)).div(s.gather(1, k).neg()).clamp(0, null);
    const stepCapped = lambda
      .minimum(corner)
      .mul(a)
      .add(lambda.neg().maximum(corner).mul(a.neg().add(1)));
    const d = torch.where(noneCapped.unsqueeze(1), stepFree, torch.where(someCapped.unsqueeze(1), stepCapped, corner));
    return d.mul(used);
  });
}

/**
 * The smallest L2 step d per row with w·(t + d) = b and t + d in [0, 1]^D (the
 * box-corner step where the hyperplane is out of reach). Shapes as projectionLinf.
 * Along -w each coordinate hits its face at step r_i; with coordinates sorted by
 * r, a binary search finds how many are already at their faces.
 */
export function projectionL2(points: Tensor, wIn: Tensor, bIn: Tensor): Tensor {
  return torch.tidy(() => {
    const [n, dim] = points.shape as [number, number];
    const dt = points.dtype;
    const offset = wIn.mul(points).sum(1).sub(bIn);
    const side = offset.ge(0).to(dt).mul(2).sub(1);
    const w = wIn.mul(side.unsqueeze(1));
    const c = offset.mul(side); // >= 0: how far above the hyperplane (in w·t) the point is
    const used = w.abs().gt(1e-8).to(dt);
    // 1e12 stands for "never hits a face" (w about 0), as in the reference.
    let r = torch.maximum(points.div(w), points.sub(1).div(w)).clamp(-1e12, 1e12);
    r = r.maskedFill(w.abs().lt(1e-8), 1e12);
    r = r.maskedFill(r.eq(-1e12), 1e12);
    const { values: rSorted, indices: byR } = r.sort(1);
    const rNext = torch.cat([rSorted.slice(1, 1), torch.zeros([n, 1], { dtype: dt, device: points.device })], 1);
    const rs = rSorted.maskedFill(rSorted.eq(1e12), 0);
    const rs2 = rNext.maskedFill(rNext.eq(1e12), 0);
    const w2 = w.square().gather(1, byR);
    const total = w2.sum(1, true);
    const rest = total.sub(w2.cumsum(1)); // squared |w| mass of the coordinates not yet at a face
    const corner = r.mul(w).neg().mul(used);
    const first = rs.narrow(1, 0, 1);
    // s[k] + c: what is left of c once the step length reaches the k-th smallest r.
    const s = torch.cat([total.neg().mul(first), rs.sub(rs2).mul(rest).cumsum(1).sub(total.mul(first))], 1);
    const beforeAnyFace = s.select(1, 0).add(c).lt(0);
    const outOfReach = corner.mul(w).sum(1).add(c).gt(0);
    const between = beforeAnyFace.logicalOr(outOfReach).logicalNot();
    const k = searchColumns(n, dim, points.device, (mid) => s.gather(1, mid).squeeze(1).add(c).gt(0));
    const stepPlain = c.div(total.squeeze(1)).unsqueeze(1).neg().mul(w);
    const restAt = rest.gather(1, k);
    const lambda = s.gather(1, k).add(c.unsqueeze(1)).div(restAt).add(rs.gather(1, k)).maskedFill(restAt.eq(0), 0);
    const free = lambda.gt(r).to(dt);
    const stepBetween = corner.mul(free).sub(lambda.mul(w).mul(free.neg().add(1)));
    const d = torch.where(beforeAnyFace.unsqueeze(1), stepPlain, torch.where(between.unsqueeze(1), stepBetween, corner));
    return d.mul(used);
  });
}

interface RunState {
  iterate: Tensor;
  best: Tensor;
  bestNorm: Tensor;
}

/** The boundary a FAB step linearises at `input`: diff = z_t - z_y per sample and its input gradient. */
type Linearise = (model: Module, input: Tensor, y: Tensor) => { diff: Tensor; grad: Tensor };

/** FAB-T's boundary: towards the given target of each sample. */
function towards(target: Tensor): Linearise {
  return (model, input, y) =>
    torch.enableGrad(() => {
      // One backward of the summed differences gives every sample's own gradient (samples are independent in eval mode).
      const z = model.forward(input);
      const zDiff = z
        .gather(1, target.unsqueeze(1))
        .sub(z.gather(1, y.unsqueeze(1)))
        .squeeze(1);
      return { diff: zDiff.detach(), grad: inputGradient(zDiff.sum(), input) };
    });
}

/**
 * Untargeted FAB's boundary: of the classes t != y, the one whose linearised
 * boundary is closest, |z_t - z_y| / ||grad(z_t - z_y)||_dual (L1 norm of the
 * gradient for L-inf, L2 for L2).
 */
function closestBoundary(norm: Norm): Linearise {
  return (model, input, y) =>
    torch.enableGrad(() => {
      const z = model.forward(input);
      const classes = z.shape[1]!;
      const grads = Array.from({ length: classes }, (_, c) =>
        torch.grad(z.select(1, c).sum(), input, { retainGraph: c < classes - 1 })[0]!.flatten(1),
      );
      const g = torch.stack(grads, 1); // [N, classes, D]
      const zd = z.detach();
      const rows = y.view([-1, 1]);
      const df = zd.sub(zd.gather(1, rows)).scatter(1, rows, 1e10);
      const dg = g.sub(g.gather(1, rows.view([-1, 1, 1]).expand([-1, 1, g.shape[2]!])));
      const dual = norm === 'linf' ? dg.abs().sum(2) : dg.square().sum(2).sqrt();
      const closest = df.abs().div(dual.add(1e-12)).argmin(1).view([-1, 1]);
      const grad = dg
        .gather(1, closest.view([-1, 1, 1]).expand([-1, 1, g.shape[2]!]))
        .squeeze(1)
        .view(input.shape);
      return { diff: df.gather(1, closest).squeeze(1), grad };
    });
}

/** One FAB iteration from state (see the file header). */
function fabStep(model: Module, x0: Tensor, y: Tensor, linearise: Linearise, state: RunState, o: FabRunOptions): RunState {
  const n = x0.shape[0]!;
  const input = state.iterate.detach().requiresGrad_();
  const { diff, grad } = linearise(model, input, y);
  const here = input.detach();
  // The linearised boundary {u : w·u = b} with w = grad, b = w·here - diff.
  const w = grad.flatten(1);
  const b = w.mul(here.flatten(1)).sum(1).sub(diff);
  const projection = o.norm === 'linf' ? projectionLinf : projectionL2;
  const d = projection(torch.cat([here.flatten(1), x0.flatten(1)]), torch.cat([w, w]), torch.cat([b, b]));
  const fromHere = d.narrow(0, 0, n).view(x0.shape);
  const fromClean = d.narrow(0, n, n).view(x0.shape);
  const size = perSampleNorm(d, o.norm).clamp(1e-8, null);
  const sizeHere = size.narrow(0, 0, n);
  // alpha grows with the distance from here relative to the clean point's, capped by alphaMax.
  const alpha = sizeHere
    .div(sizeHere.add(size.narrow(0, n, n)))
    .clamp(0, o.alphaMax)
    .view([-1, 1, 1, 1]);
  const next = here
    .add(fromHere.mul(o.eta))
    .mul(alpha.neg().add(1))
    .add(x0.add(fromClean.mul(o.eta)).mul(alpha))
    .clamp(0, 1);
  const wrong = torch.noGrad(() => model.forward(next).argmax(1).ne(y));
  const dist = perSampleNorm(next.sub(x0), o.norm);
  const better = wrong.logicalAnd(dist.lt(state.bestNorm));
  return {
    best: choosePerSample(better, next, state.best),
    bestNorm: torch.where(better, dist, state.bestNorm),
    // After a success, restart the search closer to the clean point.
    iterate: choosePerSample(wrong, x0.add(next.sub(x0).mul(o.beta)), next),
  };
}

/**
 * One targeted FAB run of o.steps iterations from `start` for the given
 * target classes (the reference's attack_single_run, targeted): for each
 * sample, the adversarial point of smallest norm seen. The caller sets the
 * model's mode. Memory stays flat: each iteration runs in its own scope.
 */
export function fabTargetedRun(model: Module, x0: Tensor, y: Tensor, target: Tensor, start: Tensor, o: FabRunOptions): FabRun {
  return fabRun(model, x0, y, towards(target), start, o);
}

/** One FAB run towards the boundaries `linearise` gives (see fabTargetedRun). */
function fabRun(model: Module, x0: Tensor, y: Tensor, linearise: Linearise, start: Tensor, o: FabRunOptions): FabRun {
  return torch.tidy(() => {
    const clean = x0.detach();
    const initial: RunState = {
      iterate: start.detach().clone(),
      best: x0.detach().clone(),
      bestNorm: torch.full([x0.shape[0]!], NOT_FOUND, { dtype: x0.dtype, device: x0.device }),
    };
    const state = torch.iterate(initial, o.steps, (s, i) => {
      const next = fabStep(model, clean, y, linearise, s, o);
      o.onStep?.(i + 1);
      return next;
    });
    return { ...state, found: state.bestNorm.lt(NOT_FOUND) };
  });
}

/**
 * Run `restart` of FAB on the still-robust points xs: the first starts at the
 * clean point, later ones at the reference's random start (radius eps / 2). A
 * point is fooled when its result is misclassified (as returned, after the
 * exact projection) and within epsilon before it.
 */
function fabAttempt(
  model: Module,
  xs: Tensor,
  ys: Tensor,
  linearise: Linearise,
  restart: number,
  o: ReturnType<typeof resolveOptions>,
): RunOutcome {
  const start = restart === 0 ? xs : randomStart(xs, o.epsilon / 2, o.norm, 'sphere');
  const run = fabRun(model, xs, ys, linearise, start, o);
  const candidate = project(run.best, xs, o.epsilon, o.norm);
  const wrong = torch.noGrad(() => model.forward(candidate).argmax(1).ne(ys));
  return { adv: candidate, fooled: wrong.logicalAnd(perSampleNorm(run.best.sub(xs), o.norm).le(o.epsilon)) };
}

/**
 * Targeted FAB (FAB-T). For each target in turn (the 2nd, 3rd, ... most likely
 * clean class, or the one chosen per point with `target`) and each restart,
 * runs FAB on the points not yet fooled. Returns a detached batch: the
 * (projected) adversarial example where one was found, else x. Points the
 * model already misclassifies come back as x. The model runs in eval mode and
 * gets its previous mode back.
 */
export const fabTargeted = defineAttack(
  'fabTargeted',
  (o: FabTargetedOptions, who) => {
    const resolved = resolveOptions(o, who);
    if (o.target) checkTargets(o.target, who);
    return { ...resolved, targets: o.target ? 1 : resolved.targets, target: o.target };
  },
  (model, x, y, o, onStep) =>
    attackStillRobust(model, x, y, o.targets * o.restarts, (k, xs, ys, index) => {
      const { rank, restart } = targetAndRestart(k, o.restarts);
      const target = chosenOrRankedTargets(model, xs, rank, o.target, index);
      if (target === null) return null; // fewer classes than targets
      return fabAttempt(model, xs, ys, towards(target), restart, { ...o, onStep: runSteps(onStep, o.targets * o.restarts, o.steps, k) });
    }),
);

/**
 * Untargeted FAB (AutoAttack "plus"): each restart runs FAB on the points not
 * yet fooled, towards the closest linearised boundary of any other class.
 * Returns a detached batch as fabTargeted; `targets` is not used.
 */
export const fab = defineAttack('fab', resolveOptions, (model, x, y, o, onStep) =>
  attackStillRobust(model, x, y, o.restarts, (restart, xs, ys) =>
    fabAttempt(model, xs, ys, closestBoundary(o.norm), restart, { ...o, onStep: runSteps(onStep, o.restarts, o.steps, restart) }),
  ),
);
