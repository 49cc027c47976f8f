// The flags of `d2r eval` that choose how the attacks run: the AutoAttack
// version and individual mode, chosen targets, saving the whole adversarial
// set and evaluating on a saved one (transfer). Kept apart from eval.ts, which
// calls these at the few places they act.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { loadDataset } from '../data/index.js';
import { readSafetensors } from '../io/safetensors.js';
import { chooseTargets, TARGET_CHOICES, type TargetChoice } from '../attacks/targets.js';
import { AUTOATTACK_VERSION_NAMES, type AutoAttackVersionName } from '../attacks/versions.js';
import type { Norm } from '../attacks/common.js';
import { loadAdversarialSet, saveAdversarialSet, transferAttack, type AdversarialSet } from '../eval/adversarialSet.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { UsageError, type FlagSpec } from './flags.js';

export const ATTACK_MODE_FLAGS: FlagSpec[] = [
  {
    name: 'aa-version',
    type: 'string',
    choices: AUTOATTACK_VERSION_NAMES,
    default: 'standard',
    help: "the AutoAttack version 'autoattack' runs: standard, plus (more attacks and restarts) or rand (EOT, for randomised models)",
  },
  {
    name: 'aa-individual',
    type: 'boolean',
    default: false,
    help: 'also run each attack alone on all points, reported in eval.json individual',
  },
  {
    name: 'targets',
    type: 'string',
    help: 'targets of pgd/fgsm, apgd-t and fab-t, one per point: least-likely, random (seeded), or a JSON/safetensors file of class labels',
  },
  {
    name: 'save-adversarial',
    type: 'string',
    help: 'write the whole adversarial set (all points, labels, the attack that broke each) to this .safetensors',
  },
  { name: 'transfer-from', type: 'string', help: 'evaluate on a set saved by --save-adversarial (attack "transfer") instead of attacking' },
];

export interface AttackModeFlags {
  aaVersion: AutoAttackVersionName;
  aaIndividual: boolean;
  targets: string | null;
  saveAdversarial: string | null;
  transferFrom: string | null;
}

/** The flags that only a single evaluation (not --eps-sweep) takes. */
export function refuseWithSweep(f: AttackModeFlags): void {
  for (const [flag, given] of [
    ['--aa-individual', f.aaIndividual],
    ['--save-adversarial', f.saveAdversarial !== null],
    ['--transfer-from', f.transferFrom !== null],
  ] as const)
    if (given) throw new UsageError(`${flag} is for a single evaluation; it cannot go with --eps-sweep`);
}

/** Class labels from a targets file: JSON (an array, or {"targets": [...]}) or safetensors (tensor 'targets'). */
function readTargetsFile(path: string): number[] {
  if (!existsSync(path)) throw new UsageError(`--targets ${path}: no such file (or give least-likely or random)`);
  if (/\.safetensors$/i.test(path)) {
    const t = readSafetensors(path).tensors['targets'];
    if (!t || t.ndim !== 1 || (t.dtype !== 'int64' && t.dtype !== 'int32'))
      throw new UsageError(`--targets ${path}: expected an integer tensor 'targets' [N]`);
    return t.toNumbers();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--targets ${path}: not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { targets?: unknown } | null)?.targets;
  if (!Array.isArray(list) || !list.every((v) => Number.isInteger(v)))
    throw new UsageError(`--targets ${path}: expected a JSON array of class labels, or {"targets": [...]}`);
  return list as number[];
}

/** The chosen targets of the points evaluated, int64 [N], or undefined without --targets. */
export function resolveTargets(
  spec: string | null,
  p: { model: Module; images: Tensor; labels: Tensor; classes: number; seed: number; batchSize: number },
): Tensor | undefined {
  if (spec === null) return undefined;
  if ((TARGET_CHOICES as readonly string[]).includes(spec))
    return torch.keep(chooseTargets(p.model, p.images, p.labels, spec as TargetChoice, { seed: p.seed, batchSize: p.batchSize }));
  const list = readTargetsFile(spec);
  const n = p.images.shape[0]!;
  if (list.length !== n) throw new UsageError(`--targets ${spec}: expected ${n} targets (one per point evaluated), found ${list.length}`);
  const bad = list.findIndex((t) => t < 0 || t >= p.classes);
  if (bad >= 0) throw new UsageError(`--targets ${spec}: entry ${bad} is ${list[bad]}; expected a class in [0, ${p.classes - 1}]`);
  return torch.keep(torch.tensor(BigInt64Array.from(list, BigInt)));
}

/** The points and attack of a transfer evaluation: the saved set's points of the data set, its examples as the attack. */
export interface TransferPoints {
  set: AdversarialSet;
  images: Tensor;
  labels: Tensor;
  indices: number[];
  attack: NamedAttack;
}

/**
 * Reads --transfer-from for a model of `dataset` and the clean points it was
 * made from; refuses a set of another data set or image shape, labels that
 * differ from the data set's, or a threat model other than the one given.
 */
export function transferPoints(
  path: string,
  o: { dataset: string; dataDir?: string; imageShape: readonly number[]; norm: Norm | null; epsilon: number | null },
): TransferPoints {
  const set = torch.tidy(() => {
    const s = loadAdversarialSet(path, { dataset: o.dataset, imageShape: o.imageShape });
    for (const t of [s.adversarial, s.label, s.index]) torch.keep(t);
    return s;
  });
  if (o.norm !== null && o.norm !== set.norm)
    throw new UsageError(`--transfer-from ${path} was made for --norm ${set.norm}, not ${o.norm}`);
  if (o.epsilon !== null && o.epsilon !== set.epsilon)
    throw new UsageError(`--transfer-from ${path} was made for --epsilon ${set.epsilon}, not ${o.epsilon}`);
  const indices = set.index.toNumbers();
  const data = loadDataset(o.dataset as Parameters<typeof loadDataset>[0], {
    split: set.split as 'test' | 'train',
    dataDir: o.dataDir,
    limit: indices.length === 0 ? 1 : Math.max(...indices) + 1,
  });
  if (indices.some((i) => i >= data.images.shape[0]!))
    throw new UsageError(
      `--transfer-from ${path}: indices up to ${Math.max(...indices)}, but ${o.dataset} ${set.split} has ${data.images.shape[0]} points`,
    );
  const rows = torch.tensor(BigInt64Array.from(indices, BigInt));
  const images = torch.keep(data.images.indexSelect(0, rows));
  const labels = torch.keep(data.labels.indexSelect(0, rows));
  const differ = labels.ne(set.label).nonzero().flatten().toNumbers();
  if (differ.length > 0)
    throw new UsageError(
      `--transfer-from ${path}: its labels differ from ${o.dataset} ${set.split} at ${differ.length} points (first: index ${indices[differ[0]!]})`,
    );
  return { set, images, labels, indices, attack: transferAttack(set) };
}

/** Writes --save-adversarial and returns its path relative to the eval file. */
export function writeAdversarialSet(
  path: string,
  evalFile: string,
  set: Omit<AdversarialSet, 'index' | 'label'> & { indices: number[]; labels: Tensor },
): string {
  saveAdversarialSet(path, {
    ...set,
    index: torch.tensor(BigInt64Array.from(set.indices, BigInt)),
    label: set.labels,
  });
  return relative(dirname(evalFile), path);
}
