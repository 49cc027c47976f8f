// `d2r eval` end to end on a briefly trained SmallCNN: the flag names users'
// scripts rely on, the eval.json fields, kept examples, the eps sweep, and
// resume from the state file of an interrupted evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, d2rAsync, killWhen, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { io } from '../../src/index.js';

interface EvalJson {
  config: { attacks: string[]; epsilon: number; seed: number; n: number };
  seed: number;
  weightsSha256: string;
  cleanAccuracy: number;
  robustAccuracy: number;
  attacks: { name: string; robustAccuracy: number; seconds: number }[];
  points: { index: number[]; label: number[]; cleanCorrect: boolean[]; robust: boolean[]; brokenBy: (string | null)[] };
  warnings: string[];
  classNames: string[];
  examples: {
    file: string;
    index: number[];
    label: number[];
    cleanPrediction: number[];
    adversarialPrediction: number[];
    attack: string[];
  } | null;
}

let weights: string | null = null;
/** A SmallCNN trained for one short epoch, shared by the tests of this file. */
function trainedWeights(): string {
  if (weights) return weights;
  const dir = tempDir();
  const r = d2r(trainArgs(dir, { limit: 512, lr: 0.05, schedule: 'multistep', seed: 1 }));
  assert.equal(r.status, 0, r.stderr);
  weights = join(dir, 'target.safetensors');
  return weights;
}

const evalArgs = (out: string, attacks: string, extra: string[] = []): string[] => [
  'eval',
  '--model',
  'smallcnn',
  '--weights',
  trainedWeights(),
  '--dataset',
  'fashion-mnist',
  '--n',
  '24',
  '--attacks',
  attacks,
  '--norm',
  'linf',
  '--epsilon',
  '0.1',
  '--seed',
  '0',
  '--batch-size',
  '8',
  '--threads',
  '1',
  '--out',
  out,
  ...extra,
];

test('d2r eval --model --weights with AutoAttack attacks writes the documented eval.json', () => {
  const dir = tempDir();
  const out = join(dir, 'eval.json');
  const r = d2r(evalArgs(out, 'pgd5,apgd-ce,apgd-t'));
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(readFileSync(out, 'utf8')) as EvalJson;
  assert.deepEqual(e.config.attacks, ['pgd5', 'apgd-ce', 'apgd-t']);
  assert.equal(e.seed, 0);
  assert.equal(e.weightsSha256, createHash('sha256').update(readFileSync(trainedWeights())).digest('hex'), 'the evaluated weights file');
  assert.deepEqual(
    e.attacks.map((a) => a.name),
    ['pgd5', 'apgd-ce', 'apgd-t'],
  );
  for (const a of e.attacks) assert.ok(a.seconds >= 0 && a.robustAccuracy <= e.cleanAccuracy);
  assert.equal(e.robustAccuracy, e.attacks[2]!.robustAccuracy);
  assert.equal(e.points.robust.filter(Boolean).length / 24, e.robustAccuracy);
  assert.equal(e.points.index.length, 24);
  assert.equal(e.classNames.length, 10);
  e.points.brokenBy.forEach((b, i) => assert.equal(b !== null, e.points.cleanCorrect[i] && !e.points.robust[i]));
  assert.ok(e.cleanAccuracy > e.robustAccuracy, `some points broken: ${e.cleanAccuracy} vs ${e.robustAccuracy}`);
  assert.ok(e.examples && e.examples.index.length > 0);
  const kept = io.loadSafetensors(join(dir, e.examples.file));
  assert.deepEqual(kept['clean']!.shape, [e.examples.index.length, 1, 28, 28]);
  assert.ok(kept['adversarial']!.sub(kept['clean']!).abs().amax().item() <= 0.1 + 1e-6);
  e.examples.adversarialPrediction.forEach((p, k) => assert.notEqual(p, e.examples!.label[k]));
  assert.match(r.stdout, /after\s+accuracy\s+seconds/);
  assert.match(r.stdout, /apgd-t\s+\d+\.\d\d%/);
  assert.ok(!existsSync(join(dir, 'eval.state.json')), 'the state file is removed once the evaluation is written');
});

test('d2r eval --eps-sweep writes robust accuracy per budget, clean at 0', () => {
  const out = join(tempDir(), 'sweep.json');
  const r = d2r([...evalArgs(out, 'pgd5'), '--eps-sweep', '0,0.05,0.2']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(readFileSync(out, 'utf8')) as { sweep: { epsilon: number; cleanAccuracy: number; robustAccuracy: number }[] };
  assert.deepEqual(
    s.sweep.map((p) => p.epsilon),
    [0, 0.05, 0.2],
  );
  assert.equal(s.sweep[0]!.robustAccuracy, s.sweep[0]!.cleanAccuracy);
  assert.ok(s.sweep[2]!.robustAccuracy <= s.sweep[1]!.robustAccuracy && s.sweep[1]!.robustAccuracy <= s.sweep[0]!.robustAccuracy);
  const bad = d2r([...evalArgs(out, 'pgd5'), '--eps-sweep', '0,x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--eps-sweep: expected non-negative numbers, got 'x'/);
});

test('an interrupted d2r eval resumes from its state file and gives the same result', async () => {
  const dir = tempDir();
  const whole = join(dir, 'whole.json');
  assert.equal(d2r(evalArgs(whole, 'apgd-ce,apgd-t', ['--batch-size', '4'])).status, 0);
  const out = join(dir, 'eval.json');
  const state = join(dir, 'eval.state.json');
  // Kill once the state shows a finished batch of an attack.
  await killWhen(
    d2rAsync(evalArgs(out, 'apgd-ce,apgd-t', ['--batch-size', '4'])),
    () => existsSync(state) && /"batchesDone": ?[1-9]/.test(readFileSync(state, 'utf8')),
  );
  assert.ok(existsSync(state), 'the state file survives the kill');
  assert.ok(!existsSync(out), 'killed before writing eval.json');
  const r = d2r(evalArgs(out, 'apgd-ce,apgd-t', ['--batch-size', '4']));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resumed from/);
  const a = JSON.parse(readFileSync(whole, 'utf8')) as EvalJson;
  const b = JSON.parse(readFileSync(out, 'utf8')) as EvalJson;
  assert.deepEqual(b.points.robust, a.points.robust);
  assert.deepEqual(
    b.attacks.map((x) => x.robustAccuracy),
    a.attacks.map((x) => x.robustAccuracy),
  );
});
