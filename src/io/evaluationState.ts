// eval.state.json: the progress of an evaluation (src/attacks/worstCase.ts),
// saved after every batch so that an interrupted run continues exactly where
// it stopped. One schema for its writer and its reader.
import { z, writeRunFile } from './schema.js';

/** An attack's result: robust accuracy over all points after it and every attack before it (worst case). */
export const attackOutcomeSchema = z.object({
  name: z.string(),
  robustAccuracy: z.number().min(0).max(1),
  seconds: z.number().min(0),
});

// Fields a reader can rebuild default to empty, so that a torn or older file
// fails on what matters (its key, its point count) with a precise message.
export const evaluationStateSchema = z.object({
  format: z.literal('d2r-evaluation-state'),
  version: z.literal(1),
  key: z.string().meta({ description: 'what was evaluated (settings and weights); another key means another evaluation' }),
  cleanCorrect: z.array(z.boolean()).default([]),
  brokenBy: z.array(z.string().nullable()).default([]).meta({ description: 'per point: the attack that first fooled it, or null' }),
  attacks: z.array(attackOutcomeSchema).default([]).meta({ description: 'the attacks finished, in order' }),
  current: z
    .object({
      name: z.string(),
      todo: z.array(z.int().min(0)).meta({ description: 'the points the attack set out to attack' }),
      batchesDone: z.int().min(0),
      seconds: z.number().min(0),
    })
    .nullable()
    .default(null)
    .meta({ description: 'the attack in progress' }),
  warnings: z.array(z.string()).default([]),
});

export type EvaluationState = z.output<typeof evaluationStateSchema>;

export function writeEvaluationState(path: string, state: EvaluationState): void {
  writeRunFile(path, evaluationStateSchema, state);
}
