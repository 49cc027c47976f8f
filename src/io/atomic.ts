// Atomic file writes: write a temporary file in the same directory, flush it
// to disk, then rename it over the target. Readers see the old file or the new
// one, never a torn one, whenever the writer is interrupted.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FileSystemError, fileSystemError } from './errors.js';

let tempCounter = 0;

/**
 * Creates folder `dir` and its missing parents (mkdir -p). Errors name `dir`
 * and the problem; Node's own recursive mkdir loops forever where a parent
 * refuses new entries with ENOENT (under /proc), so the levels are made here.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const kind = kindOf(at);
    if (kind === 'folder') break;
    if (kind === 'other') throw new FileSystemError(dir, 'create the folder', 'ENOTDIR', `${at} is a file, not a folder`);
    missing.unshift(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && kindOf(level) === 'folder') continue; // made meanwhile
      throw fileSystemError(err, 'create the folder', dir);
    }
  }
}

function kindOf(path: string): 'folder' | 'other' | 'none' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'other';
  } catch {
    return 'none';
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  makeDirectory(dir);
  // Same directory as the target, so the rename never crosses file systems.
  const temp = join(dir, `.${basename(path)}.${process.pid}.${tempCounter++}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(temp, 'wx');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw fileSystemError(err, 'write', path);
  }
  syncDirectory(dir);
}

/** JSON, indented, with a final newline, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

// The rename itself is durable only once the directory entry is flushed.
// Some platforms cannot open directories; the write is still atomic there.
function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // fsync on a directory is refused on some file systems; nothing to do.
  } finally {
    closeSync(fd);
  }
}

/** The temporary files writeFileAtomic leaves when its process is killed mid-write: `.NAME.PID.N.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.\d+\.tmp$/;

/**
 * Removes the temporary files that writers other than this process left in
 * `dir` (killed between writing and renaming). Call it only while no other
 * process writes there (a run directory under its lock). Returns their names.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      rmSync(path);
      removed.push(name);
    } catch {
      // gone already
    }
  }
  return removed;
}
