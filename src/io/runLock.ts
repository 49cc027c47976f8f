// One writer per run directory: a lock file holding the owner's pid. A second
// run into the same directory is refused with that pid; a lock whose owner is
// no longer alive (a run killed with SIGKILL) is taken over.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { linkSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

export const RUN_LOCK_FILE = '.d2r.lock';

/** Another live process holds the run directory. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by another d2r process (pid ${pid}, lock file ${join(dir, RUN_LOCK_FILE)}); wait for it to finish or stop it`);
  }
}

export interface RunLock {
  /** The pid of a dead owner whose lock was taken over, or null. */
  staleOwner: number | null;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(path: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lock of run directory `dir` (which must exist), or throws RunLockedError. */
export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, RUN_LOCK_FILE);
  // The content is complete before the lock appears: written aside, then linked
  // (link fails when the lock exists, so only one process wins).
  const aside = join(dir, `${RUN_LOCK_FILE}.${process.pid}`);
  writeFileAtomic(aside, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }) + '\n');
  let staleOwner: number | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(aside, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = ownerOf(path);
      if (owner !== null && (owner === process.pid || isAlive(owner))) throw new RunLockedError(dir, owner);
      if (attempt > 0) throw new RunLockedError(dir, owner ?? 0);
      // The owner is gone (or the lock is unreadable): a stale lock.
      staleOwner = owner ?? 0;
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(aside, { force: true });
  }
  return {
    staleOwner,
    release(): void {
      if (ownerOf(path) === process.pid) rmSync(path, { force: true });
    },
  };
}
