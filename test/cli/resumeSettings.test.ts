// `d2r train --resume --out DIR` continues with the settings the run recorded:
// flags left out take the recorded values, not the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

test('--resume with only --out and --epochs continues the recorded run; a changed method is still refused', () => {
  const out = join(tempDir(), 'run');
  const first = d2r(trainArgs(out, { method: 'pgd-at', steps: 1, limit: 64, batchSize: 32, evalN: 8, dropout: 0 }));
  assert.equal(first.status, 0, first.stderr);
  const resumed = d2r(['train', '--resume', '--epochs', '2', '--out', out]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { config: Record<string, unknown> };
  assert.deepEqual(
    [config.config['method'], config.config['steps'], config.config['dropout'], config.config['epochs']],
    ['pgd-at', 1, 0, 2],
  );
  const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"epoch"'));
  assert.equal(epochs.length, 2);
  const changed = d2r(['train', '--resume', '--epochs', '3', '--method', 'trades', '--out', out]);
  assert.equal(changed.status, 2);
  assert.match(changed.stderr, /--method: expected "pgd-at"/);
});
