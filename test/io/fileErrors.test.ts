// Writes that the file system refuses name the path and the problem in plain
// words (a typed FileSystemError), and the command line prints that line, not
// a stack. Tests run as root, which ignores permissions: the refusals come from
// a file where a folder is expected, /sys (no new entries), /proc (Node's
// recursive mkdir loops forever there) and /dev/full (always full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendRunFileLine, FileSystemError, makeDirectory, writeFileAtomic } from '../../src/io/index.js';
import { z } from '../../src/io/schema.js';
import { CLI, d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

function refused(fn: () => void, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FileSystemError, `a FileSystemError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

test('a file where a folder is expected, a folder where a file is expected', () => {
  const dir = tempDir();
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  refused(
    () => writeFileAtomic(join(file, 'sub', 'a.json'), '{}'),
    'ENOTDIR',
    /^cannot create the folder .*plain\/sub: .*plain is a file, not a folder/,
  );
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  refused(() => writeFileAtomic(folder, '{}'), 'EISDIR', /^cannot write .*folder: it is a folder, not a file \(EISDIR\)$/);
});

test('a folder that refuses new entries, and a full disk', () => {
  refused(() => makeDirectory('/sys/d2r-test/run'), 'EPERM', /^cannot create the folder \/sys\/d2r-test\/run: operation not permitted/);
  refused(() => writeFileAtomic('/sys/d2r-test.json', '{}'), 'EACCES', /^cannot write \/sys\/d2r-test\.json: permission denied/);
  refused(() => appendRunFileLine('/dev/full', z.object({}), {}), 'ENOSPC', /^cannot write \/dev\/full: the disk is full/);
});

test('d2r names the path and the problem, without a stack, and never hangs on /proc', () => {
  const train = spawnSync(process.execPath, [CLI, ...trainArgs('/proc/d2r-test/run')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(train.status, 1, `exit 1 within the time limit (${train.signal ?? ''}): ${train.stderr}`);
  assert.match(train.stderr, /^d2r train: cannot create the folder \/proc\/d2r-test\/run: a folder of the path does not exist/);
  assert.doesNotMatch(train.stderr, /\n\s+at /, 'no stack');

  const dir = tempDir();
  writeFileSync(join(dir, 'plain'), 'x');
  const underFile = d2r(trainArgs(join(dir, 'plain', 'run')));
  assert.equal(underFile.status, 1);
  assert.match(underFile.stderr, /cannot create the folder .*plain\/run: .*plain is a file, not a folder/);

  const run = join(dir, 'run');
  assert.equal(d2r(trainArgs(run, { limit: 64, evalN: 0 })).status, 0);
  const evalIntoFolder = d2r(['eval', '--checkpoint', run, '--n', '4', '--attacks', 'none', '--out', dir]);
  assert.equal(evalIntoFolder.status, 2);
  assert.match(evalIntoFolder.stderr, /--out .* is a folder; give a file path/);
});
