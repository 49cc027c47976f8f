// The JSON Schema of every file a run directory holds, as published in
// docs/schemas/ (`npm run schemas` regenerates them; a test checks the
// committed files are current). Each comes from the zod schema that the file's
// writer and readers use.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemaOf, type z } from '../io/schema.js';
import { checkpointPointerSchema, checkpointStateSchema } from '../io/checkpoint.js';
import { evaluationStateSchema } from '../io/evaluationState.js';
import { metricsRowSchema, runConfigFileSchema } from '../train/runFiles.js';
import { evalFileSchema, sweepFileSchema } from '../eval/runFiles.js';

interface PublishedSchema {
  file: string;
  schema: z.ZodType;
  title: string;
  description: string;
}

export const RUN_FILE_SCHEMAS: PublishedSchema[] = [
  {
    file: 'config.schema.json',
    schema: runConfigFileSchema,
    title: 'config.json',
    description: 'The facts of a training run (d2r train): its resolved settings, seed, command and versions.',
  },
  {
    file: 'metrics.schema.json',
    schema: metricsRowSchema,
    title: 'metrics.jsonl (one line)',
    description: 'One line of metrics.jsonl: a "run" line when training starts or resumes, an "epoch" line after each epoch.',
  },
  {
    file: 'eval.schema.json',
    schema: evalFileSchema,
    title: 'eval.json',
    description: 'Clean and robust accuracy of a model (d2r eval): the attacks in order, per-point results and kept examples.',
  },
  {
    file: 'eps-sweep.schema.json',
    schema: sweepFileSchema,
    title: 'eps-sweep.json',
    description: 'Robust accuracy at each of several attack budgets (d2r eval --eps-sweep).',
  },
  {
    file: 'eval-state.schema.json',
    schema: evaluationStateSchema,
    title: 'eval.state.json',
    description: 'The progress of an evaluation, saved after every batch so that an interrupted one resumes.',
  },
  {
    file: 'checkpoint.schema.json',
    schema: checkpointPointerSchema,
    title: 'checkpoint.json',
    description: 'Which checkpoint directory of a run is the latest complete one.',
  },
  {
    file: 'checkpoint-state.schema.json',
    schema: checkpointStateSchema,
    title: 'checkpoints/epoch-NNNN/state.json',
    description: "A checkpoint's epoch, optimiser hyper-parameters and extra facts.",
  },
];

/** The text of each published schema file, by file name. */
export function schemaFiles(): Record<string, string> {
  return Object.fromEntries(
    RUN_FILE_SCHEMAS.map((s) => [s.file, JSON.stringify(jsonSchemaOf(s.schema, s.title, s.description), null, 2) + '\n']),
  );
}

export function writeSchemaFiles(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(schemaFiles()).map(([file, text]) => {
    writeFileSync(join(dir, file), text);
    return join(dir, file);
  });
}

// `node dist/src/cli/schemas.js [DIR]` (npm run schemas): writes them to DIR (default docs/schemas).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const path of writeSchemaFiles(process.argv[2] ?? 'docs/schemas')) process.stdout.write(`${path}\n`);
}
