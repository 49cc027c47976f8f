// The addon pins glibc's mmap and trim thresholds when it loads (docs/memory.md,
// "The C heap under the tensors"); D2R_MMAP_THRESHOLD changes the mmap threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const INDEX = new URL('../../src/index.js', import.meta.url).href;

/** Loads the library in a fresh process with D2R_MMAP_THRESHOLD set and makes one tensor. */
function loadWith(threshold: string): { status: number | null; stderr: string } {
  const script = `const { torch } = await import(${JSON.stringify(INDEX)}); torch.ones([1024, 1024]).sum().item();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, D2R_MMAP_THRESHOLD: threshold },
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

test('D2R_MMAP_THRESHOLD takes a number of bytes, 0 for glibc as it is; empty is unset', () => {
  for (const threshold of ['0', '1048576', '268435456', '']) {
    const r = loadWith(threshold);
    assert.equal(r.status, 0, `${threshold}: ${r.stderr}`);
  }
});

test('a D2R_MMAP_THRESHOLD that is not a number of bytes stops the load with an error naming it', () => {
  for (const threshold of ['lots', '12MB', '-1', '99999999999']) {
    const r = loadWith(threshold);
    assert.notEqual(r.status, 0, `'${threshold}' was accepted`);
    assert.match(r.stderr, /d2r: D2R_MMAP_THRESHOLD: expected a whole number of bytes from 0 \(glibc's defaults\) to \d+, got '/);
    assert.doesNotMatch(r.stderr, /Build it with/, 'a setting to fix, not a build');
  }
});
