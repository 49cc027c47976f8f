// A resumed d2r eval writes the same eval.json and kept adversarial examples as
// an uninterrupted one, including the examples of points broken before the
// interruption (they live in the state file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, d2rAsync, killWhen, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

interface StateFile {
  brokenBy: (string | null)[];
  current: { batchesDone: number } | null;
}

/** The state shows a finished batch of an attack that broke at least one point. */
function brokeSomething(path: string): boolean {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
    return (s.current?.batchesDone ?? 0) >= 1 && s.brokenBy.some((b) => b !== null);
  } catch {
    return false; // not written yet
  }
}

test('a killed and resumed d2r eval keeps the adversarial examples found before the kill', async () => {
  const dir = tempDir();
  assert.equal(d2r(trainArgs(dir, { limit: 512, lr: 0.05, schedule: 'multistep', seed: 1 })).status, 0);
  const args = (out: string): string[] => [
    ...['eval', '--checkpoint', dir, '--n', '24', '--attacks', 'fgsm,pgd10', '--epsilon', '0.1', '--batch-size', '2'],
    ...['--threads', '1', '--examples', '6', '--out', out],
  ];
  const whole = join(dir, 'whole.json');
  const straight = d2r(args(whole));
  assert.equal(straight.status, 0, straight.stderr);

  const out = join(dir, 'resumed.json');
  const state = join(dir, 'resumed.state.json');
  await killWhen(d2rAsync(args(out)), () => brokeSomething(state));
  assert.ok(!existsSync(out), 'killed before writing its output');
  const resumed = d2r(args(out));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resumed from/);

  type EvalJson = { points: unknown; attacks: { robustAccuracy: number }[]; examples: Record<string, unknown> & { file: string } };
  const a = JSON.parse(readFileSync(whole, 'utf8')) as EvalJson;
  const b = JSON.parse(readFileSync(out, 'utf8')) as EvalJson;
  assert.deepEqual(b.points, a.points);
  assert.deepEqual(
    b.attacks.map((x) => x.robustAccuracy),
    a.attacks.map((x) => x.robustAccuracy),
  );
  const { file: fileA, ...examplesA } = a.examples;
  const { file: fileB, ...examplesB } = b.examples;
  assert.deepEqual(examplesB, examplesA);
  assert.ok(
    readFileSync(join(dir, fileB)).equals(readFileSync(join(dir, fileA))),
    'the kept examples are bit-identical to those of the uninterrupted run',
  );
});
