// The files d2r eval writes, each with the one schema its writer (the eval
// command) and its reader (the report) share:
//   eval.json        clean and robust accuracy, the attacks in order, per-point results, kept examples
//   eps-sweep.json   robust accuracy at each of several budgets
import { z, writeRunFile, type RefinementCtx } from '../io/schema.js';
import { anySettingsSchema, runFactsSchema, sha256Schema } from '../io/runFacts.js';
import { attackOutcomeSchema } from '../io/evaluationState.js';
import { EVAL_PROTOCOLS } from './attackNames.js';

export const EVAL_FILE = 'eval.json';

/** Where `d2r eval --out OUT` keeps its progress unless --state names a file: OUT with .state.json for .json. */
export function evaluationStatePath(out: string): string {
  return out.replace(/\.json$/i, '') + '.state.json';
}
export const SWEEP_FILE = 'eps-sweep.json';

/** Arrays of one record that describe the same points must have as many entries. */
function sameLengths(record: Record<string, unknown>, ctx: RefinementCtx): void {
  const arrays = Object.entries(record).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  const [firstName, first] = arrays[0] ?? ['', []];
  for (const [name, a] of arrays) {
    if (a.length !== first.length)
      ctx.addIssue({
        code: 'custom',
        path: [name],
        input: a,
        params: { sibling: firstName },
        message: `has ${a.length} entries, {sibling} has ${first.length}`,
      });
  }
}

/** How FGSM, PGD and CW ran (docs/protocol.md); files from before the option ran ours. */
const protocolSchema = z
  .enum(EVAL_PROTOCOLS)
  .default('ours')
  .meta({ description: "'ours': every point moves all its steps; 'reference': the official D2R evaluation's early stop per point" });

/** An attack's row: older files may lack the seconds. */
const attackRowSchema = attackOutcomeSchema.extend({ seconds: z.number().min(0).nullable().default(null) });

export const pointResultsSchema = z
  .object({
    index: z.array(z.int()).meta({ description: 'index of each point in the data set split' }),
    label: z.array(z.int()),
    cleanCorrect: z.array(z.boolean()),
    robust: z.array(z.boolean()).meta({ description: 'still correct after every attack' }),
    brokenBy: z
      .array(z.string().nullable())
      .nullable()
      .default(null)
      .meta({ description: 'the attack that first fooled each point; null for points none fooled' }),
  })
  .superRefine(sameLengths);

/** The kept adversarial examples: a safetensors file (tensors `clean`, `adversarial`, [k, C, H, W]) and what each is. */
export const exampleSetSchema = z
  .object({
    file: z.string().meta({ description: 'the safetensors file, relative to the JSON file that names it' }),
    index: z.array(z.int()),
    label: z.array(z.int()),
    cleanPrediction: z.array(z.int()),
    adversarialPrediction: z.array(z.int()),
    attack: z.array(z.string()),
  })
  .superRefine(sameLengths);

export type ExampleSet = z.output<typeof exampleSetSchema>;

/** Each attack alone on all points (d2r eval --aa-individual). */
export const individualRowSchema = z.object({
  name: z.string(),
  robustAccuracy: z.number().min(0).max(1).meta({ description: 'robust accuracy against this attack alone' }),
  seconds: z.number().min(0).nullable().default(null),
  robust: z.array(z.boolean()).meta({ description: 'per point (in the order of points.index): still correct after this attack alone' }),
});

export const evalFileSchema = runFactsSchema(anySettingsSchema).extend({
  protocol: protocolSchema,
  weightsSha256: sha256Schema.meta({
    description:
      "sha256 of the weights file evaluated (the checkpoint's, --weights or --torchscript); null in files from before it was recorded",
  }),
  cleanAccuracy: z.number().min(0).max(1),
  robustAccuracy: z.number().min(0).max(1).nullable().default(null).meta({ description: 'after every attack; null when none ran' }),
  attacks: z.array(attackRowSchema).default([]),
  points: pointResultsSchema.nullable().default(null),
  seconds: z.number().min(0).nullable().default(null),
  warnings: z.array(z.string()).default([]),
  classNames: z.array(z.string()).nullable().default(null),
  examples: exampleSetSchema.nullable().default(null),
  individual: z
    .array(individualRowSchema)
    .nullable()
    .default(null)
    .meta({ description: 'each attack run alone on all points (--aa-individual), besides the worst case; null when not asked for' }),
  adversarialSet: z
    .string()
    .nullable()
    .default(null)
    .meta({ description: 'the whole adversarial set (--save-adversarial), relative to this file' }),
  transferFrom: z
    .string()
    .nullable()
    .default(null)
    .meta({ description: "the saved adversarial set evaluated (--transfer-from); its examples are the attack 'transfer'" }),
});

export type EvalFile = z.input<typeof evalFileSchema>;

export const sweepFileSchema = runFactsSchema(anySettingsSchema).extend({
  protocol: protocolSchema,
  sweep: z.array(
    z.object({
      epsilon: z.number().min(0),
      cleanAccuracy: z.number().min(0).max(1).nullable().default(null),
      robustAccuracy: z.number().min(0).max(1).nullable().default(null),
      attacks: z.array(attackRowSchema).default([]),
      warnings: z.array(z.string()).default([]),
    }),
  ),
  warnings: z.array(z.string()).default([]),
});

export type SweepFile = z.input<typeof sweepFileSchema>;

export function writeEvalFile(path: string, contents: EvalFile): void {
  writeRunFile(path, evalFileSchema, contents);
}

export function writeSweepFile(path: string, contents: SweepFile): void {
  writeRunFile(path, sweepFileSchema, contents);
}
