// One writer per run directory: a lock file holding the owner's pid. A second
// run into the same directory is refused with that pid; a lock whose owner is
// no longer alive (a run killed with SIGKILL) is taken over.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** For tests: runs between finding a stale lock and taking it over (where a rival may act). */
export interface RunLockOptions {
  beforeTakeover?: () => void;
}

/** Takes the lock of run directory `dir` (which must exist), or throws RunLockedError. */
export function acquireRunLock(dir: string, options: RunLockOptions = {}): RunLock {
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
      const stale = staleLock(dir, path);
      if (stale === null) continue; // released meanwhile
      if (attempt >= 8) throw new RunLockedError(dir, stale.owner);
      options.beforeTakeover?.();
      if (takeOver(dir, path, stale)) staleOwner = stale.owner;
      else pause(); // another process is taking it over: see who won
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

const pause = (): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);

/** The lock at `path` when its owner is gone (its inode and pid, 0 when unreadable); null when there is none; throws when it is alive. */
function staleLock(dir: string, path: string): { ino: number; owner: number } | null {
  let ino: number;
  try {
    ino = statSync(path).ino;
  } catch {
    return null;
  }
  const owner = ownerOf(path);
  if (owner !== null && (owner === process.pid || isAlive(owner))) throw new RunLockedError(dir, owner);
  return { ino, owner: owner ?? 0 };
}

/**
 * Removes the stale lock `stale` so that the caller can link its own. Two
 * processes that found the same stale lock must not both remove a lock: the
 * one that first creates the takeover marker of that lock file (named by its
 * inode) removes it, and only while it is still that file. The others see a
 * live owner on their next attempt. Returns whether it removed the lock.
 */
function takeOver(dir: string, path: string, stale: { ino: number; owner: number }): boolean {
  const marker = `${path}.takeover-${stale.ino}`;
  try {
    writeFileSync(marker, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const taker = Number(readFileSync(marker, 'utf8').trim()) || 0;
    if (taker > 0 && isAlive(taker)) return false; // another process takes it over now; retry
    // Its writer was killed mid-takeover: only the user can tell it is safe to remove.
    throw new Error(
      `${dir}: a takeover of its stale lock by process ${taker} was interrupted; remove ${marker} and ${path} if no d2r process uses ${dir}`,
    );
  }
  try {
    const current = staleLock(dir, path);
    if (current === null || current.ino !== stale.ino) return false;
    rmSync(path);
    return true;
  } finally {
    rmSync(marker, { force: true });
  }
}
