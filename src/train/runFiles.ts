// The files d2r train writes into a run directory, each with the one schema its
// writer (the trainer) and its readers (resume, d2r eval, the report) share:
//   config.json     the run's facts around its resolved configuration
//   metrics.jsonl   a "run" line at each start (first, then one per resume), an "epoch" line per epoch
// (The checkpoints are io/checkpoint.ts's.)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z, appendRunFileLine, parseRunFile, readRunFile, writeRunFile } from '../io/schema.js';
import { readJsonLines } from '../io/json.js';
import { RunFileError } from '../io/errors.js';
import { runFactsSchema, sha256Schema } from '../io/runFacts.js';
import { trainConfigSchema } from './config.js';

export const RUN_CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';

/**
 * config.json. The trainer writes every setting; a reader takes what is there,
 * so runs written before a setting existed still read (older runs also
 * recorded the flag parser's `config` and `positionals`; they are kept).
 */
/** The content of the TorchScript files a run loads its models from (null: a zoo model, or a run before it was recorded). */
const scriptHashShape = {
  torchscriptSha256: sha256Schema.meta({ description: 'sha256 of the --torchscript file the target was loaded from' }),
  guidanceTorchscriptSha256: sha256Schema.meta({
    description: 'sha256 of the --guidance-torchscript file the guidance model was loaded from',
  }),
};

export const runConfigFileSchema = runFactsSchema(trainConfigSchema.partial().loose()).extend({
  ...scriptHashShape,
  worldSize: z
    .int()
    .min(1)
    .nullable()
    .default(null)
    .meta({ description: 'the processes that trained the run together (data-parallel); null in runs before it was recorded' }),
});
export type RunConfigFile = z.output<typeof runConfigFileSchema>;

const nullableNumber = z.number().nullable().default(null);

/** A "run" line: training started, or resumed after `resumedAfterEpoch` (and `resumedAtBatch` batches into the next epoch); the facts follow. */
export const metricsRunRowSchema = runFactsSchema(z.record(z.string(), z.unknown())).extend({
  type: z.literal('run'),
  ...scriptHashShape,
  worldSize: runConfigFileSchema.shape.worldSize,
  resumedAfterEpoch: z.int().min(0).nullable().default(null),
  resumedAtBatch: z
    .int()
    .min(1)
    .nullable()
    .default(null)
    .meta({ description: 'for a resume from a mid-epoch checkpoint, the batches of the next epoch already trained; null otherwise' }),
});

/**
 * An "epoch" line. The trainer writes every field; a reader takes null for
 * those a line lacks (older runs).
 */
export const metricsEpochRowSchema = z.object({
  type: z.literal('epoch'),
  epoch: z.int().min(0),
  lr: nullableNumber,
  trainLoss: nullableNumber,
  trainAccuracy: nullableNumber,
  terms: z
    .record(z.string(), z.number().nullable())
    .default({})
    .meta({ description: "the method's loss terms (ce, kl, mse, ...), averaged over the epoch" })
    .transform((t) => Object.fromEntries(Object.entries(t).filter((e): e is [string, number] => e[1] !== null))),
  testCleanAccuracy: nullableNumber,
  testRobustAccuracy: nullableNumber,
  guidanceCleanAccuracy: nullableNumber.meta({ description: 'the guidance model of two-model methods (D2R, LBGAT); null otherwise' }),
  guidanceRobustAccuracy: nullableNumber,
  evalPoints: z.int().min(0).nullable().default(null),
  seconds: nullableNumber,
});

export type MetricsRunRow = z.input<typeof metricsRunRowSchema>;
export type EpochRow = z.output<typeof metricsEpochRowSchema>;

/** Any line of metrics.jsonl (lines of other types are left for later versions; readers skip them). */
export const metricsRowSchema = z.union([metricsRunRowSchema, metricsEpochRowSchema, z.looseObject({ type: z.string() })]);

const rowTypeSchema = z.looseObject({ type: z.string() });

export type MetricsRow = { line: number; text: string } & (
  { type: 'run'; row: z.output<typeof metricsRunRowSchema> } | { type: 'epoch'; row: EpochRow }
);

/**
 * The "run" and "epoch" lines of metrics.jsonl, each validated (an error names
 * the line and the field); an epoch before the first run line is an error.
 */
export function readMetricsRows(path: string): MetricsRow[] {
  const rows: MetricsRow[] = [];
  const lines = readJsonLines(path);
  for (const { line, value, text } of lines) {
    const where = `${path} line ${line}`;
    const { type } = parseRunFile(rowTypeSchema, value, where);
    if (type === 'run') rows.push({ line, text, type, row: parseRunFile(metricsRunRowSchema, value, where) });
    else if (type === 'epoch') {
      if (!rows.some((r) => r.type === 'run')) throw new RunFileError(`${where}: an "epoch" line before the first "run" line`);
      rows.push({ line, text, type, row: parseRunFile(metricsEpochRowSchema, value, where) });
    }
  }
  return rows;
}

export function writeRunConfigFile(runDir: string, facts: z.input<typeof runConfigFileSchema>): void {
  writeRunFile(join(runDir, RUN_CONFIG_FILE), runConfigFileSchema, facts);
}

/** Appends a "run" or an "epoch" line to metrics.jsonl. */
export function appendMetricsRow(path: string, row: MetricsRunRow | z.input<typeof metricsEpochRowSchema>): void {
  if (row.type === 'run') appendRunFileLine(path, metricsRunRowSchema, row);
  else appendRunFileLine(path, metricsEpochRowSchema, row);
}

/** config.json of a run directory; null when there is none. */
export function readRunConfigFile(runDir: string): RunConfigFile | null {
  const path = join(runDir, RUN_CONFIG_FILE);
  return existsSync(path) ? readRunFile(path, runConfigFileSchema) : null;
}
