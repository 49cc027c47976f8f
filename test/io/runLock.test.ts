// The run lock: one owner per directory, stale locks (dead owners) taken over,
// and two processes that find the same stale lock never both win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireRunLock, RUN_LOCK_FILE, RunLockedError } from '../../src/io/runLock.js';
import { tempDir } from '../helpers/tempDir.js';

const RUN_LOCK_MODULE = fileURLToPath(new URL('../../src/io/runLock.js', import.meta.url));

/** A pid that no process has any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

const ownerOf = (dir: string): number => (JSON.parse(readFileSync(join(dir, RUN_LOCK_FILE), 'utf8')) as { pid: number }).pid;

/** Blocks until `condition` holds (at most a few seconds). */
function waitFor(condition: () => boolean): void {
  for (let i = 0; i < 500 && !condition(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.ok(condition(), 'the rival process never took the lock');
}

test('a lock is refused while its owner lives and taken over once it is dead', () => {
  const dir = tempDir();
  const lock = acquireRunLock(dir);
  assert.throws(
    () => acquireRunLock(dir),
    (e: unknown) => e instanceof RunLockedError && e.pid === process.pid,
  );
  lock.release();
  assert.ok(!existsSync(join(dir, RUN_LOCK_FILE)));
  const dead = deadPid();
  writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: dead }));
  const taken = acquireRunLock(dir);
  assert.equal(taken.staleOwner, dead);
  assert.equal(ownerOf(dir), process.pid);
  taken.release();
  assert.deepEqual(readdirSync(dir), [], 'no lock, copy or takeover marker is left');
});

test('of two processes that find the same stale lock, exactly one takes it over', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: deadPid() }));
  // The rival takes the lock over and holds it while this process, which saw
  // the same stale lock, goes on with its takeover.
  const rival = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(RUN_LOCK_MODULE)}); m.acquireRunLock(${JSON.stringify(dir)}); setTimeout(() => {}, 60_000);`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => rival.on('exit', resolve));
  try {
    assert.throws(
      () =>
        acquireRunLock(dir, { beforeTakeover: () => waitFor(() => existsSync(join(dir, RUN_LOCK_FILE)) && ownerOf(dir) === rival.pid) }),
      (e: unknown) => e instanceof RunLockedError && e.pid === rival.pid,
    );
    assert.equal(ownerOf(dir), rival.pid, "the rival's lock is still in place");
  } finally {
    rival.kill('SIGKILL');
    await exited;
  }
});
