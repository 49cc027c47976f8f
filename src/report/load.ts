// Reading one run directory: config.json and metrics.jsonl are required (a
// directory without them is not a run); eval.json, eps-sweep.json and the
// example images are optional, and the report says what produces them.
import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ReportError } from './errors.js';
import {
  readEval,
  readMetrics,
  readRunConfig,
  readSweep,
  type EvalResult,
  type Metrics,
  type RunFacts,
  type SweepResult,
} from './schema.js';
import { METRICS_FILE, RUN_CONFIG_FILE } from '../train/runFiles.js';
import { EVAL_FILE, SWEEP_FILE } from '../eval/runFiles.js';
import { loadExamples, type ExampleLoad } from './examples.js';
import { CHECKPOINT_POINTER, checkpointWeightsPath } from '../io/checkpoint.js';
import { fileSha256 } from '../io/runFacts.js';

export const RUN_FILES = {
  config: RUN_CONFIG_FILE,
  metrics: METRICS_FILE,
  eval: EVAL_FILE,
  sweep: SWEEP_FILE,
} as const;

export interface Run {
  /** Absolute path of the run directory. */
  dir: string;
  /** Short name in legends and tables (the directory name, made unique among the runs compared). */
  label: string;
  facts: RunFacts;
  metrics: Metrics;
  eval: EvalResult | null;
  sweep: SweepResult | null;
  /** Null when there is no eval.json. */
  examples: ExampleLoad | null;
  /** Set when eval.json records weights other than the run's latest checkpoint's: it is not this run's evaluation as it stands. */
  evalMismatch: string | null;
}

/**
 * Whether eval.json evaluated the weights the run holds now, by the sha256 it records (files from before
 * it was recorded, and runs without a checkpoint, cannot tell and pass): a run trained on after its
 * evaluation would otherwise show old robustness beside new curves.
 */
function evalMismatch(dir: string, ev: EvalResult): string | null {
  if (ev.weightsSha256 === null || !existsSync(join(dir, CHECKPOINT_POINTER))) return null;
  const which = ev.facts.config['which'] === 'guidance' ? 'guidance' : 'target';
  const weights = checkpointWeightsPath(dir, which);
  if (!existsSync(weights)) return null;
  const now = fileSha256(weights);
  if (now === ev.weightsSha256) return null;
  return (
    `${EVAL_FILE} evaluated other weights (sha256 ${ev.weightsSha256.slice(0, 12)}…) than the run's latest checkpoint ` +
    `(${relative(dir, weights)}, sha256 ${now.slice(0, 12)}…): its numbers are not this run's as it stands; rerun d2r eval`
  );
}

export function loadRun(path: string): Run {
  const dir = resolve(path);
  if (!existsSync(dir)) throw new ReportError(`${path}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new ReportError(`${path}: not a directory (expected a run directory written by d2r train)`);
  const required = (name: string): string => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new ReportError(`${path}: no ${name} there; is it a run directory written by d2r train?`);
    return file;
  };
  const configFile = required(RUN_FILES.config);
  const metricsFile = required(RUN_FILES.metrics);
  const optional = <T>(name: string, read: (file: string) => T): T | null => {
    const file = join(dir, name);
    return existsSync(file) ? read(file) : null;
  };
  const ev = optional(RUN_FILES.eval, readEval);
  return {
    dir,
    label: basename(dir),
    facts: readRunConfig(configFile),
    metrics: readMetrics(metricsFile),
    eval: ev,
    sweep: optional(RUN_FILES.sweep, readSweep),
    examples: ev ? loadExamples(ev) : null,
    evalMismatch: ev ? evalMismatch(dir, ev) : null,
  };
}

/** Whether the run trained a guidance model too (D2R, LBGAT): its accuracies are logged per epoch. */
export const hasGuidance = (run: Run): boolean =>
  run.metrics.epochs.some((e) => e.guidanceCleanAccuracy !== null || e.guidanceRobustAccuracy !== null);

/** Makes labels unique: runs with the same directory name get their parent's name too, then a number. */
export function uniqueLabels(runs: Run[]): void {
  const count = (label: string): number => runs.filter((r) => r.label === label).length;
  const clashing = runs.filter((r) => count(r.label) > 1);
  for (const r of clashing) r.label = `${basename(resolve(r.dir, '..'))}/${r.label}`;
  const seen = new Map<string, number>();
  for (const r of runs) {
    const n = (seen.get(r.label) ?? 0) + 1;
    seen.set(r.label, n);
    if (n > 1) r.label = `${r.label} (${n})`;
  }
}
