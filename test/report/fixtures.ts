// Synthetic run directories for the report tests: the files d2r train and
// d2r eval write, with made-up numbers, and a few example images.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/engine/torch.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { fileSha256 } from '../../src/io/runFacts.js';
import { tempDir } from '../helpers/tempDir.js';

export interface FixtureOptions {
  name?: string;
  method?: string;
  /** Log guidance-model accuracies (D2R, LBGAT). */
  guidance?: boolean;
  epochs?: number;
  /** Lowers all accuracies, so runs differ. */
  offset?: number;
  eval?: boolean;
  sweep?: boolean;
  examples?: number;
  channels?: 1 | 3;
  size?: number;
  /** Append a second "run" line after this epoch, as a resumed run does. */
  resumeAfter?: number;
  /** A checkpoint of the last epoch (target weights only), whose sha256 eval.json records as evaluated. */
  checkpoint?: boolean;
}

export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const ATTACKS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

export function facts(config: Record<string, unknown>, command: string): Record<string, unknown> {
  return {
    config,
    seed: config['seed'] ?? 0,
    command,
    versions: { d2r: '0.1.0', node: 'v20.0.0', libtorch: '1.13.0' },
    threads: 2,
    host: 'test-host',
    startedAt: '2026-01-02T03:04:05.000Z',
  };
}

/** A run directory under a new temp dir (or `parent`); returns its path. */
export function makeRun(o: FixtureOptions = {}, parent = tempDir('d2r-report-')): string {
  const name = o.name ?? 'run-a';
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  const epochs = o.epochs ?? 4;
  const offset = o.offset ?? 0;
  const method = o.method ?? (o.guidance ? 'd2r' : 'pgd-at');
  // A run with no epoch logged yet is one in progress: it still plans at least one.
  const config = {
    method,
    model: 'smallcnn',
    guidance: 'smallcnn',
    dataset: 'fashion-mnist',
    epochs: Math.max(epochs, 1),
    batchSize: 64,
    lr: 0.01,
    epsilon: 0.1,
    norm: 'linf',
    seed: 7,
    out: dir,
    positionals: [],
  };
  const runFacts = facts(config, `d2r train --method ${method} --epochs ${epochs} --seed 7 --out ${dir}`);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(runFacts, null, 2));
  const lines = [JSON.stringify({ type: 'run', resumedAfterEpoch: 0, ...runFacts })];
  for (let e = 1; e <= epochs; e++) {
    const clean = Math.min(0.9, 0.5 + 0.06 * e) - offset;
    lines.push(
      JSON.stringify({
        type: 'epoch',
        epoch: e,
        lr: 0.01,
        trainLoss: 2.3 / e + offset,
        trainAccuracy: clean - 0.02,
        terms: { ce: 2 / e, kl: 0.1 / e },
        testCleanAccuracy: clean,
        testRobustAccuracy: e === 1 ? null : clean - 0.3,
        ...(o.guidance ? { guidanceCleanAccuracy: clean + 0.05, guidanceRobustAccuracy: clean - 0.35 } : {}),
        evalPoints: 100,
        seconds: 12.5,
      }),
    );
    if (o.resumeAfter === e) lines.push(JSON.stringify({ type: 'run', resumedAfterEpoch: e, ...runFacts }));
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  const weightsSha256 = o.checkpoint ? writeCheckpoint(dir, epochs) : null;
  if (o.eval ?? true) writeEval(dir, o, weightsSha256);
  if (o.sweep ?? true) writeSweep(dir, o);
  return dir;
}

/** checkpoint.json and the checkpoint it names, holding a small target state dict; returns the weights' sha256. */
function writeCheckpoint(dir: string, epoch: number): string {
  const rel = `checkpoints/epoch-${String(epoch).padStart(4, '0')}`;
  mkdirSync(join(dir, rel), { recursive: true });
  const weights = join(dir, rel, 'target.safetensors');
  torch.tidy(() => saveSafetensors(weights, { 'fc.weight': torch.tensor([1, 2, 3, 4], [2, 2]) }));
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ epoch, dir: rel }));
  return fileSha256(weights);
}

function writeEval(dir: string, o: FixtureOptions, weightsSha256: string | null): void {
  const offset = o.offset ?? 0;
  const n = 20;
  const attacks = ATTACKS.map((name, i) => ({ name, robustAccuracy: 0.5 - offset - 0.05 * i, seconds: 10 + i }));
  const brokenBy = Array.from({ length: n }, (_, i) => (i < 4 ? ATTACKS[i % 4]! : i < 6 ? 'apgd-ce' : null));
  const k = o.examples ?? 3;
  const evalConfig = {
    checkpoint: dir,
    dataset: 'fashion-mnist',
    split: 'test',
    n,
    attacks: ['autoattack'],
    norm: 'linf',
    epsilon: 0.1,
    seed: 0,
  };
  const examples = k > 0 ? writeExamples(dir, k, o.channels ?? 1, o.size ?? 28) : null;
  const ev = {
    ...facts(evalConfig, `d2r eval --checkpoint ${dir} --attacks autoattack --n ${n}`),
    weightsSha256,
    cleanAccuracy: 0.8 - offset,
    robustAccuracy: attacks.at(-1)!.robustAccuracy,
    attacks,
    points: {
      index: Array.from({ length: n }, (_, i) => i),
      label: Array.from({ length: n }, (_, i) => i % 10),
      cleanCorrect: Array.from({ length: n }, (_, i) => i < 16),
      robust: brokenBy.map((b, i) => b === null && i < 16),
      brokenBy,
    },
    seconds: 46,
    warnings: ['apgd-t: the model has 10 classes, so 9 target classes are used'],
    classNames: CLASS_NAMES,
    examples,
  };
  writeFileSync(join(dir, 'eval.json'), JSON.stringify(ev, null, 2));
}

function writeExamples(dir: string, k: number, channels: number, size: number): Record<string, unknown> {
  const count = k * channels * size * size;
  const clean = new Float32Array(count);
  const adversarial = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const x = i % size;
    const y = Math.floor(i / size) % size;
    const c = Math.floor(i / (size * size)) % channels;
    const r = Math.hypot(x - size / 2, y - size / 2);
    clean[i] = r < size / 3 ? 0.2 + 0.6 * (x / size) + 0.1 * c : 0.05;
    adversarial[i] = Math.min(1, Math.max(0, clean[i]! + ((x + y + c) % 2 === 0 ? 0.1 : -0.1)));
  }
  torch.tidy(() =>
    saveSafetensors(join(dir, 'eval-examples.safetensors'), {
      clean: torch.tensor(clean, [k, channels, size, size]),
      adversarial: torch.tensor(adversarial, [k, channels, size, size]),
    }),
  );
  return {
    file: 'eval-examples.safetensors',
    index: Array.from({ length: k }, (_, i) => 100 + i),
    label: Array.from({ length: k }, (_, i) => i % 10),
    cleanPrediction: Array.from({ length: k }, (_, i) => i % 10),
    adversarialPrediction: Array.from({ length: k }, (_, i) => (i + 3) % 10),
    attack: Array.from({ length: k }, (_, i) => ATTACKS[i % 4]!),
  };
}

function writeSweep(dir: string, o: FixtureOptions): void {
  const offset = o.offset ?? 0;
  const eps = [0, 0.05, 0.1, 0.2];
  const sweep = eps.map((epsilon) => ({
    epsilon,
    cleanAccuracy: 0.8 - offset,
    robustAccuracy: Math.max(0, 0.8 - offset - 3 * epsilon),
    attacks: [{ name: 'apgd-ce', robustAccuracy: Math.max(0, 0.8 - offset - 3 * epsilon), seconds: 5 }],
  }));
  const config = { checkpoint: dir, epsSweep: eps, attacks: ['apgd-ce'], norm: 'linf', seed: 0 };
  writeFileSync(
    join(dir, 'eps-sweep.json'),
    JSON.stringify({ ...facts(config, `d2r eval --checkpoint ${dir} --eps-sweep 0,0.05,0.1,0.2`), sweep }, null, 2),
  );
}
