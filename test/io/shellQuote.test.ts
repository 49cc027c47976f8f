// The recorded command can be pasted back into a shell: every argument comes
// back as it was, spaces, quotes, $ and ; included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../src/io/runFacts.js';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

/** The words a POSIX shell makes of `line`. */
function wordsOf(line: string): string[] {
  const r = spawnSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

test('shellQuote gives a line the shell reads back as the same arguments', () => {
  const args = ['d2r', 'train', '--out', 'runs/x;rm -rf y', "it's", '$HOME', '`id`', 'a"b', '', 'tab\there', '*', 'plain-1.5,2'];
  assert.deepEqual(wordsOf(shellQuote(args)), args);
  assert.equal(shellQuote(['d2r', 'eval', '--n', '10']), 'd2r eval --n 10', 'plain words stay bare');
});

test("config.json records d2r train's command shell-quoted", () => {
  const out = join(tempDir(), 'run $x;y');
  const args = trainArgs(out, { limit: 64, evalN: 0 });
  assert.equal(d2r(args).status, 0);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { command: string };
  assert.deepEqual(wordsOf(config.command), ['d2r', ...args]);
});
