// Training that would do nothing, or hang, says so: no training images is an
// error, --eval-n 0 evaluates nothing (and reports no accuracy), and a thread
// count beyond the machine's cores is bounded by them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

function idx(magic: number, dims: number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  return b;
}

test('a training set without images is an error, not a run with loss 0', () => {
  const data = tempDir();
  mkdirSync(data, { recursive: true });
  for (const split of ['train', 't10k']) {
    writeFileSync(join(data, `${split}-images-idx3-ubyte`), idx(0x803, [0, 28, 28]));
    writeFileSync(join(data, `${split}-labels-idx1-ubyte`), idx(0x801, [0]));
  }
  const out = tempDir();
  const r = d2r(
    trainArgs(out, { dataset: 'mnist', dataDir: data, limit: null, batchSize: null, evalN: null, evalSteps: null, seed: null }),
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /training set in .* has no images/);
});

test('--eval-n 0 evaluates no point and reports no accuracy; --threads beyond the cores is bounded', () => {
  const out = tempDir();
  const threads = 100000;
  const r = d2r(trainArgs(out, { limit: 64, evalN: 0, evalSteps: null, threads, seed: null }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`threads ${threads} is more than the ${availableParallelism()} cores of this machine: using ${availableParallelism()}`),
  );
  assert.match(r.stderr, /not evaluated \(--eval-n 0\)/);
  const row = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((x) => x.type === 'epoch');
  assert.equal(row.evalPoints, 0);
  assert.equal(row.testCleanAccuracy, null);
  assert.equal(row.testRobustAccuracy, null);
});
