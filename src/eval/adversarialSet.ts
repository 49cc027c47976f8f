// Whole adversarial sets (`d2r eval --save-adversarial`) and transfer
// evaluations on them (`d2r eval --transfer-from`): every evaluated point's
// adversarial example (the clean point where no attack broke it), its label,
// its index in the data set split and the attack that broke it, in one
// safetensors file whose metadata says what it was made from.
import { existsSync } from 'node:fs';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Norm } from '../attacks/common.js';
import type { NamedAttack } from '../attacks/worstCase.js';
import { readSafetensors, saveSafetensors } from '../io/safetensors.js';
import { RunFileError } from '../io/errors.js';

const FORMAT = 'd2r-adversarial-set';

/** What a saved set was made from. */
export interface AdversarialSetFacts {
  dataset: string;
  split: string;
  norm: Norm;
  epsilon: number;
  /** The attacks that ran, in order; brokenBy indexes this list. */
  attacks: string[];
}

export interface AdversarialSet extends AdversarialSetFacts {
  /** float32 [N, C, H, W]. */
  adversarial: Tensor;
  /** int64 [N]. */
  label: Tensor;
  /** int64 [N]: the point's index in the data set split. */
  index: Tensor;
  /** Per point the attack that first broke it, null where none did. */
  brokenBy: (string | null)[];
}

/** Writes the set atomically: tensors adversarial, label, index, brokenBy (-1: none) and the facts as metadata. */
export function saveAdversarialSet(path: string, set: AdversarialSet): void {
  const broken = BigInt64Array.from(set.brokenBy, (b) => BigInt(b === null ? -1 : set.attacks.indexOf(b)));
  torch.tidy(() =>
    saveSafetensors(
      path,
      {
        adversarial: set.adversarial.float().contiguous(),
        label: set.label.contiguous(),
        index: set.index.contiguous(),
        brokenBy: torch.tensor(broken),
      },
      {
        format: FORMAT,
        version: '1',
        dataset: set.dataset,
        split: set.split,
        norm: set.norm,
        epsilon: String(set.epsilon),
        attacks: JSON.stringify(set.attacks),
      },
    ),
  );
}

/**
 * Reads a saved set and refuses one that does not fit: not a d2r adversarial
 * set, another data set or image shape than expected, or tensors that
 * disagree with each other. Errors name the file.
 */
export function loadAdversarialSet(path: string, expected: { dataset: string; imageShape: readonly number[] }): AdversarialSet {
  const fail = (what: string): never => {
    throw new RunFileError(`adversarial set ${path}: ${what}`);
  };
  if (!existsSync(path)) fail('no such file');
  const { tensors, metadata } = readSafetensors(path);
  if (metadata['format'] !== FORMAT)
    fail(`not an adversarial set written by d2r eval --save-adversarial (metadata format '${metadata['format'] ?? 'none'}')`);
  const { adversarial, label, index, brokenBy } = tensors;
  if (!adversarial || !label || !index || !brokenBy) return fail('expected tensors adversarial, label, index and brokenBy');
  if (metadata['dataset'] !== expected.dataset)
    fail(`made from data set '${metadata['dataset']}', expected '${expected.dataset}' (the model's data set)`);
  const shape = adversarial.shape.slice(1);
  if (adversarial.ndim !== 4 || shape.join() !== expected.imageShape.join())
    fail(`images of shape [${shape.join(', ')}], expected [${expected.imageShape.join(', ')}] (${expected.dataset})`);
  const n = adversarial.shape[0]!;
  for (const [name, t] of [
    ['label', label],
    ['index', index],
    ['brokenBy', brokenBy],
  ] as const)
    if (t.dtype !== 'int64' || t.ndim !== 1 || t.shape[0] !== n)
      fail(`${name} should be int64 [${n}], found ${t.dtype} [${t.shape.join(', ')}]`);
  let attacks: string[] = [];
  try {
    attacks = JSON.parse(metadata['attacks'] ?? '[]') as string[];
  } catch {
    fail(`metadata attacks is not JSON: ${metadata['attacks']}`);
  }
  const norm = metadata['norm'] as Norm;
  const epsilon = Number(metadata['epsilon']);
  if (!['linf', 'l2', 'l1'].includes(norm) || !Number.isFinite(epsilon))
    fail(`metadata norm/epsilon invalid: '${norm}', '${metadata['epsilon']}'`);
  return {
    dataset: expected.dataset,
    split: metadata['split'] ?? 'test',
    norm,
    epsilon,
    attacks,
    adversarial: adversarial.float(),
    label,
    index,
    brokenBy: brokenBy.toNumbers().map((k) => (k < 0 ? null : (attacks[k] ?? `attack ${k}`))),
  };
}

/** The saved examples as an attack of the protocol: each point gets its saved adversarial example (ids: rows of the set). */
export function transferAttack(set: AdversarialSet): NamedAttack {
  return { name: 'transfer', run: (_m, x, _y, { ids }) => set.adversarial.indexSelect(0, ids).to(x.device) };
}
