// The scratch directories of the tests go when the process that made them exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const HELPER = new URL('./tempDir.js', import.meta.url).href;

/** Runs a process that makes two directories (one with a file in it) and exits; returns their paths. */
function makeInChild(env: NodeJS.ProcessEnv): string[] {
  const script = `const { tempDir } = await import(${JSON.stringify(HELPER)});
    const dirs = [tempDir('d2r-helper-'), tempDir('d2r-helper-')];
    (await import('node:fs')).writeFileSync(dirs[0] + '/file', 'x');
    console.log(JSON.stringify(dirs));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('tempDir removes its directories, files and all, when the process exits', () => {
  const dirs = makeInChild({ D2R_KEEP_TEST_DIRS: '' });
  assert.equal(dirs.length, 2);
  for (const dir of dirs) assert.equal(existsSync(dir), false, dir);
});

test('D2R_KEEP_TEST_DIRS=1 keeps them for a look', () => {
  const dirs = makeInChild({ D2R_KEEP_TEST_DIRS: '1' });
  try {
    for (const dir of dirs) assert.equal(existsSync(dir), true, dir);
    assert.equal(existsSync(join(dirs[0]!, 'file')), true);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});
