// Multi-MB temporaries freed every step must not pile up in the C heap (glibc
// raises its mmap threshold as large blocks are freed; the addon pins it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';

test('300 steps with two live 4 MB temporaries keep the resident set flat', () => {
  const step = (): void => {
    torch.tidy(() => torch.rand([1024, 1024]).add(torch.rand([1024, 1024])).sum());
  };
  for (let i = 0; i < 20; i++) step();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 300; i++) step();
  const growthMb = (process.memoryUsage().rss - before) / 2 ** 20;
  console.log(`RSS growth over 300 steps: ${growthMb.toFixed(1)} MB`);
  assert.ok(growthMb < 100, `resident set grew by ${growthMb.toFixed(1)} MB`);
});
