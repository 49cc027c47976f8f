// d2r eval never writes over what it reads (or one of its outputs over another),
// and resumes a state file only for the same weights (by content) and settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, d2rAsync, killWhen, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

function trainRun(seed: number): string {
  const dir = tempDir();
  const r = d2r(trainArgs(dir, { seed }));
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

let shared: string | null = null;
const run = (): string => (shared ??= trainRun(1));

const withWeights = (weights: string, extra: string[], n = 8, attacks = 'none'): string[] => [
  'eval',
  '--model',
  'smallcnn',
  '--weights',
  weights,
  '--dataset',
  'fashion-mnist',
  '--n',
  String(n),
  '--attacks',
  attacks,
  '--threads',
  '1',
  ...extra,
];

test('an output path that is one of the inputs, or another output, is refused and the input is unchanged', () => {
  const dir = run();
  const weights = join(dir, 'target.safetensors');
  const before = readFileSync(weights);
  const cases: [string[], RegExp][] = [
    [withWeights(weights, ['--out', weights]), /--out .* is --weights/],
    [withWeights(weights, ['--out', join(dir, '.', 'target.safetensors')]), /--out .* is --weights/],
    [withWeights(weights, ['--out', join(tempDir(), 'e.json'), '--state', weights]), /--state .* is --weights/],
    [withWeights(weights, ['--out', join(dir, 'e.json'), '--state', join(dir, 'e.json')]), /--state .* is --out/],
    [withWeights(weights, ['--eps-sweep', '0,0.1', '--out', weights]), /--out .* is --weights/],
    [
      ['eval', '--checkpoint', dir, '--n', '8', '--attacks', 'none', '--out', join(dir, 'config.json')],
      /--out .* is --checkpoint's config\.json/,
    ],
    [
      ['eval', '--checkpoint', dir, '--n', '8', '--attacks', 'none', '--out', join(dir, 'checkpoints', 'epoch-0001', 'target.safetensors')],
      /--out .* is --checkpoint's weights/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = d2r(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  assert.ok(readFileSync(weights).equals(before), 'the weights are unchanged');
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.method, 'standard');
});

test('a state file is not resumed for other weights with the same modification time', async () => {
  const weights = join(tempDir(), 'w.safetensors');
  copyFileSync(join(run(), 'target.safetensors'), weights);
  const out = join(tempDir(), 'eval.json');
  const state = out.replace(/\.json$/, '.state.json');
  const args = withWeights(weights, ['--epsilon', '0.1', '--batch-size', '4', '--out', out], 24, 'apgd-ce,apgd-t');
  // Kill once the clean pass is saved: the state then holds the first weights'
  // clean flags, and the attacks still take seconds (AutoAttack's targeted APGD).
  // Waiting for an attack's batch to be saved instead races the run's end when
  // few points survive APGD-CE.
  await killWhen(d2rAsync(args), () => existsSync(state));
  assert.ok(existsSync(state), 'killed with a state file');
  const { atime, mtime } = statSync(weights);
  copyFileSync(join(trainRun(2), 'target.safetensors'), weights);
  utimesSync(weights, atime, mtime);
  const r = d2r(args);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /resumed from/);
});
