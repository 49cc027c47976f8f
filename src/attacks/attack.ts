// The frame every attack runs in, and the option checks they share: one place
// decides how inputs, seeds and budgets are checked, which mode the models are
// in, how the caller's random stream is kept and how memory is scoped.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { inEvalMode, withSeed, type Norm } from './common.js';

/**
 * Told an attack's progress within its batch after every step (or query):
 * how many of the total it plans are done. A run that ends early (every
 * point fooled) stops short of the total.
 */
export type StepSink = (done: number, total: number) => void;

/** What every attack's options have. */
export interface AttackOptions {
  /** Seeds all sampling; the caller's random stream is left as it was. */
  seed?: number;
  /** Progress within the batch, for work that runs long (Square's thousands of queries). */
  onStep?: StepSink;
}

/** Told the steps one run of an attack has done (its part of the attack's StepSink). */
export type RunStepSink = (done: number) => void;

/**
 * The step callback of run `run` of an attack made of `runs` runs (restarts,
 * targets) of `steps` steps each: it tells the sink the steps of the earlier
 * runs plus `done` of this one. Undefined without a sink.
 */
export function runSteps(sink: StepSink | undefined, runs: number, steps: number, run: number): RunStepSink | undefined {
  return sink && ((done) => sink(run * steps + done, runs * steps));
}

/** An attack: a detached batch of adversarial candidates for (x, y). */
export type Attack<O> = (model: Module, x: Tensor, y: Tensor, options: O) => Tensor;

/**
 * Runs fn with every model in eval mode (modes restored, also on error), the
 * random stream seeded by `seed` (the caller's stream restored) and in its own
 * memory scope; returns fn's tensor detached, everything else it made freed.
 */
export function attackFrame(models: Module[], seed: number | undefined, fn: () => Tensor): Tensor {
  return inEvalMode(models, () => withSeed(seed, () => torch.tidy(() => fn().detach())));
}

/**
 * Makes an attack out of its option checks and its computation: the attack
 * checks the batch and the seed, then `resolve`s the options (checks and
 * defaults, errors prefixed with `name`), then runs `run` in attackFrame
 * (given the caller's onStep).
 */
export function defineAttack<O extends AttackOptions, R>(
  name: string,
  resolve: (options: O, who: string) => R,
  run: (model: Module, x: Tensor, y: Tensor, resolved: R, onStep: StepSink | undefined) => Tensor,
): Attack<O> {
  return (model, x, y, options) => {
    checkBatch(x, y, name);
    checkSeed(options.seed, name);
    const target = (options as { target?: Tensor }).target;
    if (target && target.shape[0] !== x.shape[0])
      throw new Error(`${name}: expected one target per point (${x.shape[0]}), got ${target.shape[0]}`);
    const resolved = resolve(options, name);
    return attackFrame([model], options.seed, () => run(model, x, y, resolved, options.onStep));
  };
}

/** Checks chosen targets are int64 class labels, one per point (their count is checked against the batch where it is attacked). */
export function checkTargets(target: Tensor, who: string): void {
  if (target.dtype !== 'int64' || target.ndim !== 1)
    throw new Error(`${who}: expected target as int64 [N], one class per point, got ${target.dtype} [${target.shape.join(', ')}]`);
}

/** Checks x is a float NCHW batch in [0, 1] and y int64 labels of the same length. */
export function checkBatch(x: Tensor, y: Tensor, who: string): void {
  if (x.ndim !== 4) throw new Error(`${who}: expected x as [N, C, H, W], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`${who}: expected float x, got ${x.dtype}`);
  if (y.dtype !== 'int64' || y.ndim !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(`${who}: expected y as int64 [${x.shape[0]}], got ${y.dtype} [${y.shape.join(', ')}]`);
  }
  if (x.numel > 0) {
    const [low, high] = torch.tidy(() => [x.amin().item(), x.amax().item()]);
    if (!(low! >= 0 && high! <= 1)) throw new Error(`${who}: expected x in [0, 1], got values in [${low}, ${high}]`);
  }
}

/** Checks the threat model of an attack: one of the norms it has (default 'linf' or 'l2') and a finite epsilon >= 0. */
export function checkThreatModel(o: { norm: Norm; epsilon: number }, who: string, norms: readonly Norm[] = ['linf', 'l2']): void {
  oneOf(o.norm, norms, 'norm', who);
  if (!(Number.isFinite(o.epsilon) && o.epsilon >= 0)) throw new Error(`${who}: epsilon must be a finite number >= 0, got ${o.epsilon}`);
}

/** Checks a step budget: the threat model (norm default 'linf'), a finite stepSize >= 0 and a whole number of steps. */
export function checkBudget(o: { epsilon: number; stepSize: number; steps: number; norm?: Norm }, who: string): void {
  checkThreatModel({ norm: o.norm ?? 'linf', epsilon: o.epsilon }, who);
  if (!(Number.isFinite(o.stepSize) && o.stepSize >= 0))
    throw new Error(`${who}: stepSize must be a finite number >= 0, got ${o.stepSize}`);
  nonNegativeInteger(o.steps, 'steps', who);
}

/** Checks an option is a positive integer, naming it in the error. */
export function positiveInteger(value: number, name: string, who: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${who}: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Checks an option is a non-negative integer, naming it in the error. */
export function nonNegativeInteger(value: number, name: string, who: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${who}: ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Checks an option is a number in [low, high] (or (low, high] with lowOpen), naming it in the error. */
export function numberIn(value: number, low: number, high: number, name: string, who: string, lowOpen = false): number {
  if (!((lowOpen ? value > low : value >= low) && value <= high))
    throw new Error(`${who}: ${name} must be in ${lowOpen ? '(' : '['}${low}, ${high}], got ${value}`);
  return value;
}

/** Checks an optional seed is a non-negative safe integer. */
export function checkSeed(seed: number | undefined, who: string): void {
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0))
    throw new Error(`${who}: seed must be a non-negative integer, got ${seed}`);
}

/** Checks an option is one of the allowed strings, naming it and them in the error. */
export function oneOf<T extends string>(value: T, allowed: readonly T[], name: string, who: string): T {
  if (!allowed.includes(value))
    throw new Error(
      `${who}: ${name} must be ${allowed
        .map((a) => `'${a}'`)
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}, got '${String(value)}'`,
    );
  return value;
}
