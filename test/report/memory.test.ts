// Zero growth of live tensor handles around a report: reading the kept
// examples and drawing the gallery leave torch.memory().numTensors where it
// started, so the report holds no tensor after it returns. (The report runs long
// enough for the GC to run inside it, so a handle merely left to the collector
// may be finalized before the count is read; see docs/memory.md.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import { buildReport } from '../../src/report/index.js';
import { settledTensorCount } from '../attacks/fixtures.js';
import { makeRun } from './fixtures.js';

test('a report with a gallery leaves the live tensor handles where they started', async () => {
  const dir = makeRun({ guidance: true, epochs: 2, examples: 4 });
  const before = settledTensorCount();
  const files = await buildReport([dir], { now: new Date('2026-02-03T04:05:06Z') });
  assert.ok(
    files.pngs.some((p) => p.endsWith('gallery.png')),
    'the gallery was drawn from the examples',
  );
  assert.equal(torch.memory().numTensors, before);
});
