// Without --threads, a run uses every core of the machine (and records how many).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

test('a run without --threads uses every core and records one process', () => {
  const out = tempDir();
  const r = d2r(trainArgs(out, { limit: 64, evalN: 0, evalSteps: null, threads: null }));
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { threads: number; worldSize: number };
  assert.equal(config.threads, availableParallelism());
  assert.equal(config.worldSize, 1);
});
