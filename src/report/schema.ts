// The report's view of a run's files: each file is read by the schema its
// writer uses (src/train/runFiles.ts, src/eval/runFiles.ts), then arranged for
// the page: the facts apart from the numbers, epochs by number, sweep points by
// epsilon. A file that breaks its schema is an error naming the file and field.
import { readRunFile } from '../io/schema.js';
import { readMetricsRows, runConfigFileSchema, type EpochRow } from '../train/runFiles.js';
import { evalFileSchema, sweepFileSchema, type ExampleSet } from '../eval/runFiles.js';
import type { z } from '../io/schema.js';
import type { RunFacts } from '../io/runFacts.js';

/** What every d2r command records next to its numbers. */
export type { RunFacts };

export type EpochRecord = Omit<EpochRow, 'type'>;

/** One start of training: the first, then one per resume. */
export interface RunSegment {
  line: number;
  resumedAfterEpoch: number | null;
  /** For a resume from a mid-epoch checkpoint: the batches of the next epoch already trained. */
  resumedAtBatch: number | null;
  startedAt: string | null;
  /** The command and settings of this start. */
  command: string | null;
  config: Record<string, unknown>;
}

export interface Metrics {
  segments: RunSegment[];
  /** By epoch; when a resumed run repeated an epoch, its last record. */
  epochs: EpochRecord[];
}

type EvalFileContents = z.output<typeof evalFileSchema>;
type SweepFileContents = z.output<typeof sweepFileSchema>;

export type AttackRow = EvalFileContents['attacks'][number];
export type PointResults = NonNullable<EvalFileContents['points']>;
/** The kept adversarial examples of an evaluation, as `d2r eval` writes them. */
export type ExampleRefs = ExampleSet;

export type EvalResult = Omit<EvalFileContents, keyof RunFacts> & { path: string; facts: RunFacts };
export type SweepPoint = SweepFileContents['sweep'][number];

export interface SweepResult {
  path: string;
  facts: RunFacts;
  /** By increasing epsilon. */
  points: SweepPoint[];
  warnings: string[];
}

/** Splits a file's facts from its numbers. */
function splitFacts<T extends RunFacts>(file: T): { facts: RunFacts; rest: Omit<T, keyof RunFacts> } {
  const { config, seed, command, versions, host, threads, startedAt, ...rest } = file;
  return { facts: { config, seed, command, versions, host, threads, startedAt }, rest };
}

/** metrics.jsonl: "run" lines start (or resume) training, "epoch" lines follow; other types are skipped. */
export function readMetrics(path: string): Metrics {
  const segments: RunSegment[] = [];
  const byEpoch = new Map<number, EpochRecord>();
  for (const r of readMetricsRows(path)) {
    if (r.type === 'run') {
      const { resumedAfterEpoch, resumedAtBatch, startedAt, command, config } = r.row;
      segments.push({ line: r.line, resumedAfterEpoch, resumedAtBatch, startedAt, command, config });
    } else {
      const { type: _type, ...record } = r.row;
      byEpoch.set(record.epoch, record); // a resume that repeats an epoch replaces it
    }
  }
  return { segments, epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch) };
}

export function readEval(path: string): EvalResult {
  const { facts, rest } = splitFacts(readRunFile(path, evalFileSchema));
  return { path, facts, ...rest };
}

export function readSweep(path: string): SweepResult {
  const { facts, rest } = splitFacts(readRunFile(path, sweepFileSchema));
  return { path, facts, points: [...rest.sweep].sort((a, b) => a.epsilon - b.epsilon), warnings: rest.warnings };
}

/** config.json: the facts of the training run. */
export function readRunConfig(path: string): RunFacts {
  return splitFacts(readRunFile(path, runConfigFileSchema)).facts;
}
