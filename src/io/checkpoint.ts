// Run checkpoints: everything needed to resume a run exactly, written so that an
// interruption at any moment leaves the previous checkpoint intact. This module
// knows the files; the trainer and the evaluation move weights in and out.
//
// Layout inside a run directory:
//   checkpoint.json                 pointer {epoch, dir[, batch]}, replaced atomically last
//   checkpoints/epoch-NNNN/         one complete checkpoint per directory: the end of epoch NNNN,
//   checkpoints/epoch-NNNN-batch-BBBBBB/  or BBBBBB batches into epoch NNNN (a mid-epoch checkpoint)
//     target.safetensors            target weights (PyTorch state-dict keys)
//     guidance.safetensors          guidance weights (two-model methods)
//     state.safetensors             optimiser state tensors and the RNG state
//     state.json                    epoch, optimiser hyper-parameters, extra facts
//   target.safetensors              the latest target weights, for `d2r eval --weights` and PyTorch
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { loadSafetensors, saveSafetensors } from './safetensors.js';
import { RunFileError } from './errors.js';
import { makeDirectory, removeStaleTemps, writeFileAtomic } from './atomic.js';
import { readRunFile, writeRunFile, z } from './schema.js';

export type StateDict = Record<string, Tensor>;

/** An optimiser's state: JSON hyper-parameters and tensors (e.g. momentum buffers). */
export interface OptimizerState {
  meta: unknown;
  tensors: StateDict;
}

/** Where a mid-epoch checkpoint stands: `batch` batches of the next epoch done, and what the trainer needs to go on. */
export interface PartialEpoch {
  batch: number;
  state: Record<string, unknown>;
}

export interface CheckpointContents {
  /** The last completed epoch. */
  epoch: number;
  /** Set in a mid-epoch checkpoint: how far into epoch `epoch + 1` it was taken. */
  partial?: PartialEpoch;
  target: StateDict;
  guidance?: StateDict;
  optimizer: OptimizerState;
  /** Small JSON facts to carry across a resume (e.g. the best accuracy so far). */
  extra?: Record<string, unknown>;
}

export const CHECKPOINT_POINTER = 'checkpoint.json';

/** A checkpoint directory's name: epoch-NNNN after an epoch, epoch-NNNN-batch-BBBBBB within one. */
const CHECKPOINT_DIR_PATTERN = String.raw`epoch-\d{4,}(-batch-\d{6,})?`;

/** checkpoint.json: which checkpoint directory is the latest complete one. */
export const checkpointPointerSchema = z.object({
  epoch: z.int().min(0).meta({ description: 'the last completed epoch' }),
  dir: z
    .string()
    .regex(
      new RegExp(`^checkpoints/${CHECKPOINT_DIR_PATTERN}$`),
      'a checkpoint directory of the run (checkpoints/epoch-NNNN or checkpoints/epoch-NNNN-batch-BBBBBB)',
    )
    .meta({
      description:
        'the checkpoint directory, relative to the run directory: checkpoints/epoch-NNNN after epoch NNNN, checkpoints/epoch-NNNN-batch-BBBBBB within it',
    }),
  batch: z
    .int()
    .min(1)
    .optional()
    .meta({ description: 'a mid-epoch checkpoint: the batches of epoch `epoch` + 1 done (absent at an epoch end)' }),
});

/** The files a checkpoint directory holds; nothing else in it is the run's. */
export const CHECKPOINT_FILES = ['target.safetensors', 'guidance.safetensors', 'state.safetensors', 'state.json'] as const;
const EPOCH_DIR_NAME = new RegExp(`^${CHECKPOINT_DIR_PATTERN}$`);

/**
 * Removes the files a checkpoint directory of a run holds, and the directory
 * once it is empty; anything else there (and anything a symbolic link leads
 * to) stays.
 */
function removeCheckpointDir(dir: string): void {
  let isDir = false;
  try {
    isDir = lstatSync(dir).isDirectory();
  } catch {
    return;
  }
  if (!isDir) return;
  for (const name of CHECKPOINT_FILES) {
    const path = join(dir, name);
    try {
      if (lstatSync(path).isFile()) rmSync(path);
    } catch {
      // not there
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // other files are there: they are not the run's to delete
  }
}

/** The run's checkpoint directories (checkpoints/epoch-NNNN[-batch-BBBBBB]), relative to the run. */
export function checkpointDirs(runDir: string): string[] {
  const root = join(runDir, 'checkpoints');
  try {
    if (!statSync(root).isDirectory()) return [];
  } catch {
    return [];
  }
  return readdirSync(root)
    .filter((n) => EPOCH_DIR_NAME.test(n))
    .map((n) => join('checkpoints', n));
}

/** Removes every checkpoint of a run (its files only) and the pointer. */
export function removeCheckpoints(runDir: string): void {
  rmSync(join(runDir, CHECKPOINT_POINTER), { force: true });
  for (const rel of checkpointDirs(runDir)) removeCheckpointDir(join(runDir, rel));
  try {
    rmdirSync(join(runDir, 'checkpoints'));
  } catch {
    // not empty, a link or not there: left as it is
  }
}

/** checkpoints/epoch-NNNN/state.json */
export const checkpointStateSchema = z.object({
  epoch: z.int().min(0).meta({ description: 'the last completed epoch' }),
  partial: z
    .object({ batch: z.int().min(1), state: z.record(z.string(), z.unknown()) })
    .optional()
    .meta({ description: "a mid-epoch checkpoint: the batches of the next epoch done and the trainer's running sums" }),
  optimizer: z.unknown().meta({ description: "the optimiser's hyper-parameters, as its stateDict() gives them" }),
  extra: z.record(z.string(), z.unknown()).default({}),
});

const checkpointDir = (c: CheckpointContents): string =>
  join(
    'checkpoints',
    c.partial
      ? `epoch-${String(c.epoch + 1).padStart(4, '0')}-batch-${String(c.partial.batch).padStart(6, '0')}`
      : `epoch-${String(c.epoch).padStart(4, '0')}`,
  );

export function saveCheckpoint(runDir: string, c: CheckpointContents): void {
  const relDir = checkpointDir(c);
  const dir = join(runDir, relDir);
  removeCheckpointDir(dir); // a half-written copy from an interrupted attempt
  makeDirectory(dir);
  saveSafetensors(join(dir, 'target.safetensors'), c.target);
  if (c.guidance) saveSafetensors(join(dir, 'guidance.safetensors'), c.guidance);
  torch.tidy(() => {
    const tensors: StateDict = { rng_state: torch.getRngState() };
    for (const [k, v] of Object.entries(c.optimizer.tensors)) tensors[`optimizer.${k}`] = v;
    saveSafetensors(join(dir, 'state.safetensors'), tensors);
  });
  writeRunFile(join(dir, 'state.json'), checkpointStateSchema, {
    epoch: c.epoch,
    ...(c.partial ? { partial: c.partial } : {}),
    optimizer: c.optimizer.meta,
    extra: c.extra ?? {},
  });
  writeRunFile(join(runDir, CHECKPOINT_POINTER), checkpointPointerSchema, {
    epoch: c.epoch,
    dir: relDir,
    ...(c.partial ? { batch: c.partial.batch } : {}),
  });
  saveSafetensors(join(runDir, LATEST_WEIGHTS), c.target);
  // Older checkpoints of the run are obsolete once the pointer names the new one;
  // only their files go (checkpoints/epoch-NNNN/{target,guidance,state}.*).
  for (const rel of checkpointDirs(runDir)) if (rel !== relDir) removeCheckpointDir(join(runDir, rel));
}

function readPointer(runDir: string): z.output<typeof checkpointPointerSchema> | null {
  const path = join(runDir, CHECKPOINT_POINTER);
  return existsSync(path) ? readRunFile(path, checkpointPointerSchema) : null;
}

/** The last completed epoch of the latest checkpoint in runDir (a mid-epoch one included), or null when there is none. */
export function latestCheckpointEpoch(runDir: string): number | null {
  return readPointer(runDir)?.epoch ?? null;
}

function requirePointer(runDir: string): z.output<typeof checkpointPointerSchema> {
  const pointer = readPointer(runDir);
  if (!pointer)
    throw new RunFileError(
      `${runDir}: no checkpoint found (expected ${join(runDir, CHECKPOINT_POINTER)}); is it a run directory written by d2r train?`,
    );
  return pointer;
}

/** The file of the latest checkpoint's target (or guidance) weights. */
export function checkpointWeightsPath(runDir: string, which: 'target' | 'guidance' = 'target'): string {
  return join(runDir, requirePointer(runDir).dir, `${which}.safetensors`);
}

/**
 * The weights of the latest checkpoint's target (or guidance) model, its last completed epoch and,
 * for a mid-epoch checkpoint, the batches of the next epoch done. Call inside torch.tidy.
 */
export function loadCheckpointWeights(
  runDir: string,
  which: 'target' | 'guidance' = 'target',
): { epoch: number; batch?: number; weights: StateDict } {
  const pointer = requirePointer(runDir);
  return { epoch: pointer.epoch, batch: pointer.batch, weights: loadSafetensors(join(runDir, pointer.dir, `${which}.safetensors`)) };
}

/** Everything of the latest checkpoint, for an exact resume. Call inside torch.tidy. */
export function readCheckpoint(
  runDir: string,
  withGuidance: boolean,
): CheckpointContents & { rng: Tensor; extra: Record<string, unknown> } {
  const pointer = requirePointer(runDir);
  const dir = join(runDir, pointer.dir);
  const state = readRunFile(join(dir, 'state.json'), checkpointStateSchema);
  const tensors = loadSafetensors(join(dir, 'state.safetensors'));
  const rng = tensors['rng_state'];
  if (!rng) throw new RunFileError(`${join(dir, 'state.safetensors')}: missing 'rng_state'`);
  const optimizerTensors: StateDict = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith('optimizer.')) optimizerTensors[k.slice('optimizer.'.length)] = v;
  return {
    epoch: state.epoch,
    ...(state.partial ? { partial: state.partial } : {}),
    target: loadSafetensors(join(dir, 'target.safetensors')),
    ...(withGuidance ? { guidance: loadSafetensors(join(dir, 'guidance.safetensors')) } : {}),
    optimizer: { meta: state.optimizer, tensors: optimizerTensors },
    extra: state.extra,
    rng,
  };
}

/** The run's latest target weights, next to the checkpoints (for `d2r eval --weights` and PyTorch). */
export const LATEST_WEIGHTS = 'target.safetensors';

/**
 * Makes the run's root target.safetensors the latest checkpoint's target
 * weights again when it is missing or differs (a run killed between writing
 * the checkpoint pointer and that file). Returns whether it was rewritten.
 */
export function repairLatestWeights(runDir: string): boolean {
  const pointer = requirePointer(runDir);
  const source = readFileSync(join(runDir, pointer.dir, 'target.safetensors'));
  const root = join(runDir, LATEST_WEIGHTS);
  if (existsSync(root) && readFileSync(root).equals(source)) return false;
  writeFileAtomic(root, source);
  return true;
}

/** Leftover temporary files of killed writers in the run directory and its checkpoints. */
export function removeRunTemps(runDir: string): string[] {
  return [runDir, ...checkpointDirs(runDir).map((rel) => join(runDir, rel))].flatMap((dir) =>
    removeStaleTemps(dir).map((name) => join(dir, name)),
  );
}
