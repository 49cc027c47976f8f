import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from '../../src/index.js';
import { tempDir } from '../helpers/tempDir.js';

test('writeFileAtomic replaces the file and leaves no temporary behind', () => {
  const dir = tempDir();
  const path = join(dir, 'nested', 'report.txt');
  io.writeFileAtomic(path, 'first');
  io.writeFileAtomic(path, new Uint8Array([104, 105]));
  assert.equal(readFileSync(path, 'utf8'), 'hi');
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['report.txt']);
});

test('a failed write leaves the old content and no temporary', () => {
  const dir = tempDir();
  const target = join(dir, 'taken');
  mkdirSync(target); // a directory cannot be replaced by a file
  writeFileSync(join(target, 'inside'), 'kept');
  assert.throws(() => io.writeFileAtomic(target, 'new'), /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
  assert.deepEqual(readdirSync(dir), ['taken']);
  assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
});

test('writeJsonAtomic writes indented JSON with a final newline', () => {
  const path = join(tempDir(), 'state.json');
  io.writeJsonAtomic(path, { epoch: 3, lr: [0.1] });
  assert.equal(readFileSync(path, 'utf8'), '{\n  "epoch": 3,\n  "lr": [\n    0.1\n  ]\n}\n');
});
