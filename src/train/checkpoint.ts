// Run checkpoints: everything needed to resume a run exactly, written so that an
// interruption at any moment leaves the previous checkpoint intact.
//
// Layout inside a run directory:
//   checkpoint.json                 pointer {epoch, dir}, replaced atomically last
//   checkpoints/epoch-NNNN/         one complete checkpoint per directory
//     target.safetensors            target weights (PyTorch state-dict keys)
//     guidance.safetensors          guidance weights (two-model methods)
//     state.safetensors             optimiser state tensors and the RNG state
//     state.json                    epoch, optimiser hyper-parameters, method
//   target.safetensors              the latest target weights, for `d2r eval --weights` and PyTorch
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { Module } from '../nn/index.js';
import type { Optimizer } from '../optim/index.js';

export interface CheckpointContents {
  epoch: number;
  target: Module;
  guidance?: Module;
  optimizer: Optimizer;
  /** Small JSON facts to carry across a resume (e.g. the best accuracy so far). */
  extra?: Record<string, unknown>;
}

interface Pointer {
  epoch: number;
  dir: string;
}

const POINTER = 'checkpoint.json';
const epochDir = (epoch: number): string => join('checkpoints', `epoch-${String(epoch).padStart(4, '0')}`);

export function saveCheckpoint(runDir: string, c: CheckpointContents): void {
  const relDir = epochDir(c.epoch);
  const dir = join(runDir, relDir);
  rmSync(dir, { recursive: true, force: true }); // a half-written copy from an interrupted attempt
  mkdirSync(dir, { recursive: true });
  torch.tidy(() => {
    saveSafetensors(join(dir, 'target.safetensors'), c.target.stateDict());
    if (c.guidance) saveSafetensors(join(dir, 'guidance.safetensors'), c.guidance.stateDict());
    const optimizerState = c.optimizer.stateDict();
    const tensors: Record<string, Tensor> = { rng_state: torch.getRngState() };
    for (const [k, v] of Object.entries(optimizerState.tensors)) tensors[`optimizer.${k}`] = v;
    saveSafetensors(join(dir, 'state.safetensors'), tensors);
    writeJsonAtomic(join(dir, 'state.json'), { epoch: c.epoch, optimizer: optimizerState.meta, extra: c.extra ?? {} });
  });
  writeJsonAtomic(join(runDir, POINTER), { epoch: c.epoch, dir: relDir } satisfies Pointer);
  torch.tidy(() => saveSafetensors(join(runDir, 'target.safetensors'), c.target.stateDict()));
  // Older checkpoints are obsolete once the pointer names the new one.
  for (const name of readdirSync(join(runDir, 'checkpoints'))) {
    if (join('checkpoints', name) !== relDir) rmSync(join(runDir, 'checkpoints', name), { recursive: true, force: true });
  }
}

/** The epoch of the last complete checkpoint in runDir, or null when there is none. */
export function latestCheckpointEpoch(runDir: string): number | null {
  const pointer = readPointer(runDir);
  return pointer?.epoch ?? null;
}

function readPointer(runDir: string): Pointer | null {
  const path = join(runDir, POINTER);
  if (!existsSync(path)) return null;
  let pointer: Pointer;
  try {
    pointer = JSON.parse(readFileSync(path, 'utf8')) as Pointer;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message}); the checkpoint pointer is damaged`);
  }
  if (!Number.isInteger(pointer.epoch) || typeof pointer.dir !== 'string') {
    throw new Error(`${path}: expected {"epoch": integer, "dir": string}, found ${JSON.stringify(pointer)}`);
  }
  return pointer;
}

/** Loads the weights of the latest checkpoint's target (or guidance) into model. */
export function loadCheckpointWeights(runDir: string, model: Module, which: 'target' | 'guidance' = 'target'): number {
  const pointer = readPointer(runDir);
  if (!pointer) throw new Error(`${runDir}: no checkpoint found (expected ${join(runDir, POINTER)}); was the run trained with --out ${runDir}?`);
  const path = join(runDir, pointer.dir, `${which}.safetensors`);
  torch.tidy(() => model.loadStateDict(loadSafetensors(path)));
  return pointer.epoch;
}

/** Restores models, optimiser and RNG from the latest checkpoint; returns its epoch and extra facts. */
export function restoreCheckpoint(
  runDir: string,
  target: Module,
  guidance: Module | undefined,
  optimizer: Optimizer,
): { epoch: number; extra: Record<string, unknown> } {
  const pointer = readPointer(runDir);
  if (!pointer) throw new Error(`--resume: ${runDir} has no checkpoint (expected ${join(runDir, POINTER)})`);
  const dir = join(runDir, pointer.dir);
  const statePath = join(dir, 'state.json');
  let state: { epoch: number; optimizer: unknown; extra?: Record<string, unknown> };
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (err) {
    throw new Error(`${statePath}: cannot read the checkpoint state: ${(err as Error).message}`);
  }
  torch.tidy(() => {
    target.loadStateDict(loadSafetensors(join(dir, 'target.safetensors')));
    if (guidance) guidance.loadStateDict(loadSafetensors(join(dir, 'guidance.safetensors')));
    const tensors = loadSafetensors(join(dir, 'state.safetensors'));
    const rng = tensors['rng_state'];
    if (!rng) throw new Error(`${join(dir, 'state.safetensors')}: missing 'rng_state'`);
    const optimizerTensors: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(tensors)) if (k.startsWith('optimizer.')) optimizerTensors[k.slice('optimizer.'.length)] = v;
    optimizer.loadStateDict({ meta: state.optimizer, tensors: optimizerTensors } as ReturnType<Optimizer['stateDict']>);
    torch.setRngState(rng);
  });
  return { epoch: state.epoch, extra: state.extra ?? {} };
}
