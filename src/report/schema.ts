// The run files the report reads, as types, and their validation: config.json
// and the "run" lines of metrics.jsonl (written by d2r train), eval.json and
// eps-sweep.json (written by d2r eval). Fields the report can do without may be
// missing (older files, runs in progress); fields it needs must have their type.
import { ReportError } from './errors.js';
import { Fields, isBoolean, isInteger, isString, isStringOrNull, isRecord } from './fields.js';
import type { JsonLine } from './json.js';
import type { ExampleSet } from '../eval/examples.js';

/** What every d2r command records next to its numbers. */
export interface RunFacts {
  /** All flags of the command, after defaults. */
  config: Record<string, unknown>;
  seed: number | null;
  /** The exact command line. */
  command: string | null;
  versions: Record<string, string>;
  host: string | null;
  threads: number | null;
  startedAt: string | null;
}

export interface EpochRecord {
  epoch: number;
  lr: number | null;
  trainLoss: number | null;
  trainAccuracy: number | null;
  /** The loss terms of the method (ce, kl, mse, ...), averaged over the epoch. */
  terms: Record<string, number>;
  testCleanAccuracy: number | null;
  testRobustAccuracy: number | null;
  /** The guidance model of two-model methods (D2R, LBGAT); null otherwise. */
  guidanceCleanAccuracy: number | null;
  guidanceRobustAccuracy: number | null;
  evalPoints: number | null;
  seconds: number | null;
}

/** One start of training: the first, then one per resume. */
export interface RunSegment {
  line: number;
  resumedAfterEpoch: number | null;
  startedAt: string | null;
}

export interface Metrics {
  segments: RunSegment[];
  /** By epoch; when a resumed run repeated an epoch, its last record. */
  epochs: EpochRecord[];
}

export interface AttackRow {
  name: string;
  /** Accuracy over all points after this attack and every one before it (worst case). */
  robustAccuracy: number;
  seconds: number | null;
}

export interface PointResults {
  index: number[];
  label: number[];
  cleanCorrect: boolean[];
  robust: boolean[];
  /** The attack that first fooled each point; null for points no attack fooled. */
  brokenBy: (string | null)[] | null;
}

/** The kept adversarial examples of an evaluation, as `d2r eval` writes them. */
export type ExampleRefs = ExampleSet;

export interface EvalResult {
  path: string;
  facts: RunFacts;
  cleanAccuracy: number;
  robustAccuracy: number | null;
  attacks: AttackRow[];
  points: PointResults | null;
  seconds: number | null;
  warnings: string[];
  classNames: string[] | null;
  examples: ExampleRefs | null;
}

export interface SweepPoint {
  epsilon: number;
  cleanAccuracy: number | null;
  robustAccuracy: number | null;
  attacks: AttackRow[];
}

export interface SweepResult {
  path: string;
  facts: RunFacts;
  /** By increasing epsilon. */
  points: SweepPoint[];
  warnings: string[];
}

export function parseFacts(f: Fields): RunFacts {
  const config = f.object('config', true);
  const versions = f.object('versions', true);
  return {
    config: config ? config.raw : {},
    seed: f.numberOrNull('seed'),
    command: f.stringOrNull('command'),
    // Versions are strings by convention; anything else is shown as its JSON.
    versions: versions ? Object.fromEntries(Object.entries(versions.raw).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) : {},
    host: f.stringOrNull('host'),
    threads: f.numberOrNull('threads'),
    startedAt: f.stringOrNull('startedAt'),
  };
}

function parseEpoch(f: Fields): EpochRecord {
  const epoch = f.integer('epoch');
  if (epoch < 0) f.fail('epoch', 'a non-negative integer', epoch);
  const terms = f.object('terms', true);
  const termValues: Record<string, number> = {};
  for (const key of Object.keys(terms?.raw ?? {})) {
    const v = terms!.numberOrNull(key);
    if (v !== null) termValues[key] = v;
  }
  return {
    epoch,
    lr: f.numberOrNull('lr'),
    trainLoss: f.numberOrNull('trainLoss'),
    trainAccuracy: f.numberOrNull('trainAccuracy'),
    terms: termValues,
    testCleanAccuracy: f.numberOrNull('testCleanAccuracy'),
    testRobustAccuracy: f.numberOrNull('testRobustAccuracy'),
    guidanceCleanAccuracy: f.numberOrNull('guidanceCleanAccuracy'),
    guidanceRobustAccuracy: f.numberOrNull('guidanceRobustAccuracy'),
    evalPoints: f.numberOrNull('evalPoints'),
    seconds: f.numberOrNull('seconds'),
  };
}

/** The lines of metrics.jsonl: "run" lines start (or resume) training, "epoch" lines follow; other types are skipped. */
export function parseMetrics(lines: JsonLine[], path: string): Metrics {
  const segments: RunSegment[] = [];
  const byEpoch = new Map<number, EpochRecord>();
  for (const { line, value } of lines) {
    const f = Fields.of(value, `${path} line ${line}`);
    const type = f.string('type');
    if (type === 'run') segments.push({ line, resumedAfterEpoch: f.numberOrNull('resumedAfterEpoch'), startedAt: f.stringOrNull('startedAt') });
    else if (type === 'epoch') {
      if (segments.length === 0) throw new ReportError(`${path} line ${line}: an "epoch" line before the first "run" line`);
      const record = parseEpoch(f);
      byEpoch.set(record.epoch, record); // a resume that repeats an epoch replaces it
    }
  }
  return { segments, epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch) };
}

function parseAttacks(f: Fields, key: string): AttackRow[] {
  return f.objects(key, true).map((a) => ({ name: a.string('name'), robustAccuracy: a.number('robustAccuracy'), seconds: a.numberOrNull('seconds') }));
}

function sameLengths(f: Fields, key: string, arrays: Record<string, unknown[]>): void {
  const entries = Object.entries(arrays);
  const n = entries[0]![1].length;
  for (const [name, a] of entries) {
    if (a.length !== n) throw new ReportError(`${f.where}: '${f.prefix}${key}.${name}' has ${a.length} entries, '${f.prefix}${key}.${entries[0]![0]}' has ${n}`);
  }
}

function parsePoints(f: Fields): PointResults | null {
  const p = f.object('points', true);
  if (!p) return null;
  const points: PointResults = {
    index: p.arrayOf('index', 'an integer', isInteger),
    label: p.arrayOf('label', 'an integer', isInteger),
    cleanCorrect: p.arrayOf('cleanCorrect', 'true or false', isBoolean),
    robust: p.arrayOf('robust', 'true or false', isBoolean),
    brokenBy: p.has('brokenBy') ? p.arrayOf('brokenBy', 'an attack name or null', isStringOrNull) : null,
  };
  sameLengths(f, 'points', { index: points.index, label: points.label, cleanCorrect: points.cleanCorrect, robust: points.robust, ...(points.brokenBy ? { brokenBy: points.brokenBy } : {}) });
  return points;
}

function parseExamples(f: Fields): ExampleRefs | null {
  const e = f.object('examples', true);
  if (!e) return null;
  const refs: ExampleRefs = {
    file: e.string('file'),
    index: e.arrayOf('index', 'an integer', isInteger),
    label: e.arrayOf('label', 'an integer', isInteger),
    cleanPrediction: e.arrayOf('cleanPrediction', 'an integer', isInteger),
    adversarialPrediction: e.arrayOf('adversarialPrediction', 'an integer', isInteger),
    attack: e.arrayOf('attack', 'an attack name', isString),
  };
  const { file: _file, ...arrays } = refs;
  sameLengths(f, 'examples', arrays);
  return refs;
}

export function parseEval(value: unknown, path: string): EvalResult {
  const f = Fields.of(value, path);
  return {
    path,
    facts: parseFacts(f),
    cleanAccuracy: f.number('cleanAccuracy'),
    robustAccuracy: f.numberOrNull('robustAccuracy'),
    attacks: parseAttacks(f, 'attacks'),
    points: parsePoints(f),
    seconds: f.numberOrNull('seconds'),
    warnings: f.arrayOf('warnings', 'a string', isString, true),
    classNames: f.has('classNames') ? f.arrayOf('classNames', 'a string', isString) : null,
    examples: parseExamples(f),
  };
}

export function parseSweep(value: unknown, path: string): SweepResult {
  const f = Fields.of(value, path);
  const points = f.objects('sweep').map((p) => ({
    epsilon: p.number('epsilon'),
    cleanAccuracy: p.numberOrNull('cleanAccuracy'),
    robustAccuracy: p.numberOrNull('robustAccuracy'),
    attacks: parseAttacks(p, 'attacks'),
  }));
  return { path, facts: parseFacts(f), points: points.sort((a, b) => a.epsilon - b.epsilon), warnings: f.arrayOf('warnings', 'a string', isString, true) };
}

/** config.json: the facts of the training run. */
export function parseRunConfig(value: unknown, path: string): RunFacts {
  const f = Fields.of(value, path);
  if (!isRecord(f.raw['config'])) f.fail('config', 'an object (the flags of d2r train)', f.raw['config']);
  return parseFacts(f);
}
