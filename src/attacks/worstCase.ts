// The evaluation protocol every robustness number here comes from: a clean
// pass, then attacks in order, each run only on the points still robust and
// each starting from the clean points; a point's final verdict is the worst
// case over all of them. Optionally resumable from a state file.
import { existsSync, readFileSync } from 'node:fs';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { parseRunFile } from '../io/schema.js';
import { RunFileError } from '../io/errors.js';
import { decodeKept, encodeKept, evaluationStateSchema, writeEvaluationState, type EvaluationState } from '../io/evaluationState.js';
import { perSampleNorm, withSeed, type Norm } from './common.js';
import type { StepSink } from './attack.js';
import type { WarningSink } from './stillRobust.js';
import { probabilityOutputWarning, randomizedModelWarning, squareWarning } from './checks.js';

/** What the protocol gives an attack with each batch. */
export interface AttackBatch {
  /** The batch's positions among all the points evaluated (int64; for per-point settings such as chosen targets). */
  ids: Tensor;
  warn: WarningSink;
  /** Progress within the batch (the attack's onStep), when the caller follows progress. */
  onStep?: StepSink;
}

/** An attack as the protocol runs it: a detached batch of adversarial candidates for (x, y). */
export interface NamedAttack {
  name: string;
  run(model: Module, x: Tensor, y: Tensor, batch: AttackBatch): Tensor;
}

export interface AttackOutcome {
  name: string;
  /** Robust accuracy over all points after this attack (cumulative worst case). */
  robustAccuracy: number;
  seconds: number;
}

export interface WorstCaseOptions {
  batchSize: number;
  /** Every batch of every attack runs from this seed, so a batch's result does not depend on what ran before it. */
  seed: number;
  device?: string;
  /** When given, every attack output is checked to lie in the eps-ball and in [0, 1]. */
  threatModel?: { norm: Norm; epsilon: number };
  /** Run the reference's sanity checks (randomised model, probability outputs, Square beating the white-box attacks). */
  checks?: boolean;
  /** The model is randomised on purpose (an EOT evaluation): no randomised-model warning, as the reference's 'rand' version. */
  randomised?: boolean;
  /**
   * Save progress after every batch to `path`; a later call with the same `key` resumes from it.
   * A state file written for another key is an error, or ignored and replaced with ifOther 'restart'.
   */
  state?: { path: string; key: string; ifOther?: 'error' | 'restart' };
  /**
   * Keep the adversarial examples of the points an attack broke (for galleries): of
   * all of them (true) or of the first n by index. With a state file they are
   * saved in it, so a resumed run returns the same ones.
   */
  keepAdversarial?: boolean | number;
  /**
   * Told the progress of each attack after every batch, and within a batch as its
   * steps (or queries) are done: pointsDone counts the batch in progress by the
   * share of its steps done (a whole number, never decreasing).
   */
  onProgress?: (attack: string, pointsDone: number, pointsTotal: number) => void;
  onAttackDone?: (outcome: AttackOutcome) => void;
  onWarning?: WarningSink;
}

export interface WorstCaseResult {
  cleanCorrect: boolean[];
  /** Still correct after every attack. */
  robust: boolean[];
  /** The attack that first fooled each point (null: clean-wrong or never fooled). */
  brokenBy: (string | null)[];
  attacks: AttackOutcome[];
  warnings: string[];
  /** x with each kept broken point replaced by its adversarial example (keepAdversarial), else null. */
  adversarial: Tensor | null;
  /** Whether the run continued from a state file. */
  resumed: boolean;
}

/** The share of true flags (0 for none). */
export const fraction = (flags: boolean[]): number => (flags.length === 0 ? 0 : flags.filter(Boolean).length / flags.length);

function readState({ path, key, ifOther }: NonNullable<WorstCaseOptions['state']>, n: number): EvaluationState | null {
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`evaluation state ${path}: not valid JSON (${(err as Error).message}); delete it to start over`);
  }
  const state = parseRunFile(evaluationStateSchema, raw, `evaluation state ${path}`);
  if (state.key !== key) {
    if (ifOther === 'restart') return null;
    throw new Error(
      `evaluation state ${path} was written for a different evaluation (its key ${state.key}, this one ${key}); delete it or pass another state path`,
    );
  }
  for (const field of ['cleanCorrect', 'brokenBy'] as const) {
    if (!Array.isArray(state[field]) || state[field].length !== n)
      throw new Error(
        `evaluation state ${path}: field ${field} should have ${n} entries, found ${Array.isArray(state[field]) ? state[field].length : typeof state[field]}`,
      );
  }
  return state;
}

/** Checks an attack's output is a batch of x's shape inside the threat model (with float slack). */
function checkOutput(name: string, x: Tensor, adv: Tensor, threat: WorstCaseOptions['threatModel']): void {
  if (adv.shape.join() !== x.shape.join()) throw new Error(`attack ${name} returned shape [${adv.shape}] for input [${x.shape}]`);
  if (!threat) return;
  torch.tidy(() => {
    const d = adv.sub(x);
    const size = perSampleNorm(d, threat.norm).amax().item();
    const [low, high] = [adv.amin().item(), adv.amax().item()];
    const slack = 1e-5 * Math.max(1, threat.epsilon);
    if (!(size <= threat.epsilon + slack))
      throw new Error(`attack ${name} left the ${threat.norm} ball: perturbation ${size} > eps ${threat.epsilon}`);
    if (!(low >= 0 && high <= 1)) throw new Error(`attack ${name} left [0, 1]: values in [${low}, ${high}]`);
  });
}

/** Puts the kept examples a state file saved into `adversarial`; they must cover the points `kept`. */
function restoreKept(adversarial: Tensor, state: EvaluationState, kept: number[], path: string): void {
  const saved = state.kept;
  const missing = kept.filter((i) => !saved?.index.includes(i));
  if (missing.length > 0)
    throw new RunFileError(
      `evaluation state ${path} lacks the adversarial examples of points ${missing.join(', ')} (written without kept examples); delete it to start over`,
    );
  if (!saved || saved.index.length === 0) return;
  torch.tidy(() => {
    const rows = decodeKept(saved, path);
    if (rows.shape.slice(1).join() !== adversarial.shape.slice(1).join() || rows.dtype !== adversarial.dtype)
      throw new RunFileError(
        `evaluation state ${path}: its kept examples are ${rows.dtype} [${rows.shape.slice(1).join(', ')}], the images ${adversarial.dtype} [${adversarial.shape.slice(1).join(', ')}]; delete it to start over`,
      );
    if (saved.index.some((i) => i >= adversarial.shape[0]!))
      throw new RunFileError(`evaluation state ${path}: field kept.index names a point beyond the ${adversarial.shape[0]} evaluated`);
    adversarial.indexCopy_(0, torch.tensor(BigInt64Array.from(saved.index, BigInt)), rows.to(adversarial.device));
  });
}

/** The images with only the `kept` rows taken from `adversarial` (which it disposes), so a resumed run returns the same tensor. */
function onlyKept(images: Tensor, adversarial: Tensor, kept: number[]): Tensor {
  const result = torch.keep(
    torch.tidy(() => {
      const out = images.detach().clone();
      if (kept.length === 0) return out;
      const rows = torch.tensor(BigInt64Array.from(kept, BigInt));
      return out.indexCopy_(0, rows, adversarial.indexSelect(0, rows).to(out.device));
    }),
  );
  adversarial.dispose();
  return result;
}

/**
 * Runs the protocol on (images, labels) with `attacks` in order. The model is
 * in eval mode throughout and gets its mode back; the caller's random stream
 * is restored.
 */
export function worstCase(model: Module, images: Tensor, labels: Tensor, attacks: NamedAttack[], o: WorstCaseOptions): WorstCaseResult {
  return runToEnd(worstCaseSteps(model, images, labels, attacks, o));
}

/** Runs a computation written as steps (a generator) to its end, synchronously. */
export function runToEnd<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * worstCase one batch at a time: it yields after each batch of an attack (its
 * progress saved), so that a caller can let the event loop run in between (a
 * signal handler). Ending it early (`return()`) restores the model's mode and
 * the random stream; the state file then resumes from that batch.
 */
export function* worstCaseSteps(
  model: Module,
  images: Tensor,
  labels: Tensor,
  attacks: NamedAttack[],
  o: WorstCaseOptions,
): Generator<void, WorstCaseResult, void> {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${o.batchSize}`);
  const names = attacks.map((a) => a.name);
  if (new Set(names).size !== names.length) throw new Error(`each attack may run once; got ${names.join(', ')}`);
  const n = images.shape[0]!;
  const device = o.device ?? 'cpu';
  const batchOf = (ids: number[]): { x: Tensor; y: Tensor; index: Tensor } => {
    const index = torch.tensor(BigInt64Array.from(ids, BigInt));
    return { x: images.indexSelect(0, index).to(device), y: labels.indexSelect(0, index).to(device), index };
  };
  const warnings: string[] = [];
  const warn = (message: string): void => {
    if (warnings.includes(message)) return;
    warnings.push(message);
    o.onWarning?.(message);
  };
  const wasTraining = model.training;
  const savedRng = torch.keep(torch.getRngState());
  model.eval();
  try {
    const restored = o.state ? readState(o.state, n) : null;
    const state: EvaluationState = restored ?? {
      format: 'd2r-evaluation-state',
      version: 1,
      key: o.state?.key ?? '',
      cleanCorrect: [],
      brokenBy: new Array<null>(n).fill(null),
      attacks: [],
      current: null,
      warnings: [],
      kept: null,
    };
    for (const w of state.warnings) warn(w);
    // Robust: right on the clean point and broken by no attack so far.
    const robustNow = (): boolean[] => state.cleanCorrect.map((c, i) => c && state.brokenBy[i] === null);
    const keepLimit = o.keepAdversarial === true ? Infinity : Number(o.keepAdversarial ?? 0);
    // The points whose examples are kept: the first broken ones. Points only ever
    // become broken, so a point dropped from this list never comes back to it.
    const keptNow = (): number[] => state.brokenBy.flatMap((b, i) => (b === null ? [] : [i])).slice(0, keepLimit);
    const adversarial = keepLimit > 0 ? torch.keep(torch.tidy(() => images.detach().clone())) : null;
    if (adversarial && restored) restoreKept(adversarial, restored, keptNow(), o.state!.path);
    const save = (): void => {
      state.warnings = warnings;
      if (!o.state) return;
      if (adversarial) {
        const kept = keptNow();
        if (kept.join() !== state.kept?.index.join())
          state.kept = torch.tidy(() => encodeKept(kept, adversarial.indexSelect(0, torch.tensor(BigInt64Array.from(kept, BigInt)))));
      }
      writeEvaluationState(o.state.path, state);
    };
    if (o.checks && n > 0) {
      torch.tidy(() => {
        const first = batchOf(Array.from({ length: Math.min(o.batchSize, n) }, (_, i) => i));
        const randomised = o.randomised ? null : randomizedModelWarning(model, first.x, first.y);
        for (const w of [randomised, probabilityOutputWarning(model, first.x)]) if (w) warn(w);
      });
    }
    if (!restored) {
      for (let start = 0; start < n; start += o.batchSize) {
        const ids = Array.from({ length: Math.min(o.batchSize, n - start) }, (_, i) => start + i);
        torch.tidy(() => {
          const { x, y } = batchOf(ids);
          const correct = torch.noGrad(() => model.forward(x).argmax(1).eq(y)).toUint8Array();
          for (const c of correct) state.cleanCorrect.push(c === 1);
        });
      }
      save();
    }
    for (const attack of attacks) {
      if (state.attacks.some((a) => a.name === attack.name)) continue; // finished before a resume
      if (state.current?.name !== attack.name)
        state.current = { name: attack.name, todo: robustNow().flatMap((r, i) => (r ? [i] : [])), batchesDone: 0, seconds: 0 };
      const current = state.current;
      const batches = Math.ceil(current.todo.length / o.batchSize);
      // Batch b's steps as points: the batches before it plus its share of steps done.
      const progressWithin = (b: number, size: number): StepSink | undefined => {
        const onProgress = o.onProgress;
        if (!onProgress) return undefined;
        return (done, total) =>
          onProgress(attack.name, b * o.batchSize + Math.floor((size * Math.min(done, total)) / Math.max(total, 1)), current.todo.length);
      };
      o.onProgress?.(attack.name, Math.min(current.batchesDone * o.batchSize, current.todo.length), current.todo.length);
      for (let b = current.batchesDone; b < batches; b++) {
        const started = performance.now();
        const ids = current.todo.slice(b * o.batchSize, (b + 1) * o.batchSize);
        torch.tidy(() => {
          const { x, y, index } = batchOf(ids);
          const warnOf = (m: string): void => warn(`${attack.name}: ${m}`);
          const adv = withSeed(o.seed, () => attack.run(model, x, y, { ids: index, warn: warnOf, onStep: progressWithin(b, ids.length) }));
          checkOutput(attack.name, x, adv, o.threatModel);
          const stillCorrect = torch.noGrad(() => model.forward(adv).argmax(1).eq(y)).toUint8Array();
          const broken = ids.flatMap((id, k) => (stillCorrect[k] ? [] : [[id, k] as const]));
          for (const [id] of broken) {
            state.brokenBy[id] = attack.name;
          }
          if (adversarial && broken.length > 0) {
            const rowsFrom = torch.tensor(BigInt64Array.from(broken, ([, k]) => BigInt(k)));
            const rowsTo = torch.tensor(BigInt64Array.from(broken, ([id]) => BigInt(id)));
            adversarial.indexCopy_(0, rowsTo, adv.indexSelect(0, rowsFrom).to(adversarial.device));
          }
        });
        current.batchesDone = b + 1;
        current.seconds += (performance.now() - started) / 1000;
        save();
        o.onProgress?.(attack.name, Math.min((b + 1) * o.batchSize, current.todo.length), current.todo.length);
        yield;
      }
      const outcome = { name: attack.name, robustAccuracy: fraction(robustNow()), seconds: current.seconds };
      state.attacks.push(outcome);
      state.current = null;
      save();
      o.onAttackDone?.(outcome);
    }
    if (o.checks) {
      const w = squareWarning(fraction(state.cleanCorrect), state.attacks);
      if (w) warn(w);
      save();
    }
    return {
      cleanCorrect: state.cleanCorrect,
      robust: robustNow(),
      brokenBy: state.brokenBy,
      attacks: state.attacks,
      warnings,
      adversarial: adversarial && keepLimit < Infinity ? onlyKept(images, adversarial, keptNow()) : adversarial,
      resumed: restored !== null,
    };
  } finally {
    torch.setRngState(savedRng);
    savedRng.dispose();
    model.train(wasTraining);
  }
}

/** One attack's result when it runs alone on all points. */
export interface IndividualOutcome extends AttackOutcome {
  /** Per point: still correct after this attack alone. */
  robust: boolean[];
}

/**
 * Each attack run alone on all the points the model gets right (the
 * reference's individual mode), by the same protocol; no state file, nothing
 * kept. The clean flags are those of the first run.
 */
export function individually(
  model: Module,
  images: Tensor,
  labels: Tensor,
  attacks: NamedAttack[],
  o: WorstCaseOptions,
): { cleanCorrect: boolean[]; attacks: IndividualOutcome[]; warnings: string[] } {
  const alone = { ...o, state: undefined, keepAdversarial: false };
  const runs = attacks.map((a) => ({ name: a.name, result: worstCase(model, images, labels, [a], alone) }));
  return {
    cleanCorrect: runs[0]?.result.cleanCorrect ?? [],
    attacks: runs.map(({ name, result }) => ({
      name,
      robustAccuracy: fraction(result.robust),
      seconds: result.attacks[0]?.seconds ?? 0,
      robust: result.robust,
    })),
    warnings: [...new Set(runs.flatMap((r) => r.result.warnings))],
  };
}
