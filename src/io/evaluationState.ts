// eval.state.json: the progress of an evaluation (src/attacks/worstCase.ts),
// saved after every batch so that an interrupted run continues exactly where
// it stopped. One schema for its writer and its reader.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { bytesPerElement, dtypeCode, type DType } from '../engine/dtype.js';
import { RunFileError } from './errors.js';
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
  kept: z
    .object({
      index: z.array(z.int().min(0)).meta({ description: 'the points whose examples are kept, in increasing order' }),
      shape: z.array(z.int().min(0)).meta({ description: 'the shape of one example' }),
      dtype: z.enum(Object.keys(dtypeCode) as [DType, ...DType[]]),
      data: z.base64().meta({ description: 'the examples, in the order of index: raw little-endian values, base64' }),
    })
    .nullable()
    .default(null)
    .meta({ description: 'the adversarial examples kept so far (the first points broken), so that a resumed run keeps them too' }),
});

export type EvaluationState = z.output<typeof evaluationStateSchema>;

export function writeEvaluationState(path: string, state: EvaluationState): void {
  writeRunFile(path, evaluationStateSchema, state);
}

export type KeptExamples = NonNullable<EvaluationState['kept']>;

/** The examples of points `index` (rows of `examples`, in that order) as the state stores them. */
export function encodeKept(index: number[], examples: Tensor): KeptExamples {
  const values = examples.to('cpu').contiguous().data();
  return {
    index,
    shape: examples.shape.slice(1),
    dtype: examples.dtype,
    data: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64'),
  };
}

/** The kept examples as a tensor (one row per index); `path` names the state file in errors. */
export function decodeKept(kept: KeptExamples, path: string): Tensor {
  const bytes = Buffer.from(kept.data, 'base64');
  const shape = [kept.index.length, ...kept.shape];
  const expected = shape.reduce((a, b) => a * b, 1) * bytesPerElement[kept.dtype];
  if (bytes.length !== expected)
    throw new RunFileError(
      `evaluation state ${path}: field kept.data should hold ${expected} bytes (${kept.dtype} [${shape.join(', ')}]), found ${bytes.length}; delete it to start over`,
    );
  return torch.fromBytes(bytes, shape, kept.dtype);
}
