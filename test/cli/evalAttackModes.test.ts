// d2r eval's attack modes: --aa-individual, --targets, --save-adversarial and
// --transfer-from (a saved set evaluated on another model, refused when it does not fit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, models, io } from '../../src/index.js';
import { d2r } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { resolveTargets } from '../../src/cli/evalAttacks.js';
import { fixture } from '../attacks/fixtures.js';

const N = 6;

function weightsFile(dir: string, seed: number): string {
  torch.manualSeed(seed);
  const path = join(dir, `w${seed}.safetensors`);
  io.saveSafetensors(path, models.smallCnn({ numClasses: 10 }).stateDict());
  return path;
}

const evalArgs = (weights: string, out: string, extra: string[]): string[] => {
  const flags = { model: 'smallcnn', weights, dataset: 'fashion-mnist', n: N, threads: 1, epsilon: 0.1, out };
  return ['eval', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]), ...extra];
};

test('--save-adversarial keeps every point; --transfer-from evaluates another model on it; a set that does not fit is refused', () => {
  const dir = tempDir();
  const [a, b] = [weightsFile(dir, 1), weightsFile(dir, 2)];
  const saved = join(dir, 'adv.safetensors');
  const first = d2r(evalArgs(a, join(dir, 'a.json'), ['--attacks', 'fgsm', '--save-adversarial', saved, '--examples', '0']));
  assert.equal(first.status, 0, first.stderr);
  const evalA = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(evalA['adversarialSet'], 'adv.safetensors');
  const set = io.readSafetensors(saved);
  assert.deepEqual(set.tensors['adversarial']!.shape, [N, 1, 28, 28]);
  assert.deepEqual(set.tensors['index']!.toNumbers(), [0, 1, 2, 3, 4, 5]);
  const points = evalA['points'] as { brokenBy: (string | null)[]; label: number[] };
  assert.deepEqual(set.tensors['label']!.toNumbers(), points.label);
  assert.deepEqual(
    set.tensors['brokenBy']!.toNumbers(),
    points.brokenBy.map((x) => (x === null ? -1 : 0)),
  );
  assert.equal(set.metadata['dataset'], 'fashion-mnist');

  const other = d2r(evalArgs(b, join(dir, 'b.json'), ['--transfer-from', saved]));
  assert.equal(other.status, 0, other.stderr);
  const evalB = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(evalB['transferFrom'], saved);
  assert.deepEqual(
    (evalB['attacks'] as { name: string }[]).map((r) => r.name),
    ['transfer'],
  );
  const mnistShaped = join(dir, 'cifar.safetensors');
  io.saveSafetensors(
    mnistShaped,
    {
      adversarial: torch.zeros([2, 3, 32, 32]),
      label: torch.zeros([2], { dtype: 'int64' }),
      index: torch.zeros([2], { dtype: 'int64' }),
      brokenBy: torch.zeros([2], { dtype: 'int64' }),
    },
    { format: 'd2r-adversarial-set', dataset: 'fashion-mnist', split: 'test', norm: 'linf', epsilon: '0.1', attacks: '[]' },
  );
  const cases: [string[], RegExp][] = [[['--transfer-from', mnistShaped], /images of shape \[3, 32, 32\], expected \[1, 28, 28\]/]];
  for (const [extra, message] of cases) {
    const r = d2r(evalArgs(a, join(dir, 'bad.json'), extra));
    assert.notEqual(r.status, 0, extra.join(' '));
    assert.match(r.stderr, message);
  }
});

test('--aa-individual reports each attack alone; --targets takes least-likely, random or a file, and refuses a bad one', () => {
  const dir = tempDir();
  const w = weightsFile(dir, 3);
  const out = join(dir, 'e.json');
  const r = d2r(evalArgs(w, out, ['--attacks', 'fgsm,pgd2', '--aa-individual', '--targets', 'least-likely', '--examples', '0']));
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(readFileSync(out, 'utf8')) as {
    individual: { name: string; robust: boolean[]; robustAccuracy: number }[];
    robust: boolean[];
  };
  assert.deepEqual(
    e.individual.map((a) => a.name),
    ['fgsm', 'pgd2'],
  );
  for (const a of e.individual) assert.equal(a.robust.length, N);
  const targets = join(dir, 't.json');
  writeFileSync(targets, JSON.stringify([1, 2, 3, 4, 5, 10]));
  const bad = d2r(evalArgs(w, join(dir, 'g.json'), ['--attacks', 'pgd2', '--targets', targets]));
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--targets .*t\.json: entry 5 is 10; expected a class in \[0, 9\]/);
});

test('a targets file: JSON or safetensors, one class per point, in range; refused otherwise with the file named', () => {
  const dir = tempDir();
  const { target: model, x, y } = fixture();
  const p = { model, images: x, labels: y, classes: 10, seed: 0, batchSize: 4 };
  const file = join(dir, 't.json');
  const read = (content: string): number[] => {
    writeFileSync(file, content);
    return resolveTargets(file, p)!.toNumbers();
  };
  assert.deepEqual(read('[1, 2, 3, 4, 5, 6]'), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(read('{"targets": [0, 0, 0, 0, 0, 9]}'), [0, 0, 0, 0, 0, 9]);
  const st = join(dir, 't.safetensors');
  io.saveSafetensors(st, { targets: torch.tensor(BigInt64Array.from([3n, 3n, 3n, 3n, 3n, 3n])) });
  assert.deepEqual(resolveTargets(st, p)!.toNumbers(), [3, 3, 3, 3, 3, 3]);
  assert.throws(() => read('[1, 2]'), /--targets .*t\.json: expected 6 targets \(one per point evaluated\), found 2/);
  assert.throws(() => read('[1, 2, 3, 4, 5, -1]'), /entry 5 is -1; expected a class in \[0, 9\]/);
  assert.throws(() => read('{"targets": "x"}'), /expected a JSON array of class labels/);
  assert.throws(() => read('{'), /not valid JSON/);
  assert.throws(() => resolveTargets(join(dir, 'none.json'), p), /no such file \(or give least-likely or random\)/);
  assert.deepEqual(resolveTargets('least-likely', p)!.toNumbers(), resolveTargets('least-likely', p)!.toNumbers());
  assert.equal(resolveTargets(null, p), undefined);
});
