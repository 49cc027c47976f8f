// The command line's own flags: --version, -h on every command, and
// "did you mean" for a misspelt command, flag, choice or config-file setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { d2r } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

test('d2r --version prints the package version', () => {
  const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-V']) {
    const r = d2r([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `d2r ${version}\n`);
  }
});

test('-h shows the help of every command', () => {
  for (const command of ['train', 'eval', 'report']) {
    const r = d2r([command, '-h']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: d2r ${command} \\[flags\\]`));
  }
});

test('a misspelt command, flag, choice or setting gets a suggestion; a far-off one none', () => {
  const command = d2r(['trian']);
  assert.equal(command.status, 2);
  assert.match(command.stderr, /unknown command 'trian' \(did you mean 'train'\?\)/);
  const flag = d2r(['eval', '--attack', 'pgd20']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /Unknown option '--attack' \(did you mean '--attacks'\?\)/);
  const choice = d2r(['train', '--method', 'tradess']);
  assert.equal(choice.status, 2);
  assert.match(choice.stderr, /got 'tradess' \(did you mean 'trades'\?\)/);
  const config = join(tempDir(), 'run.json');
  writeFileSync(config, JSON.stringify({ epoch: 2 }));
  const setting = d2r(['train', '--config', config]);
  assert.equal(setting.status, 2);
  assert.match(setting.stderr, /unknown setting 'epoch' \(did you mean 'epochs'\?\)/);
  const far = d2r(['eval', '--zzzzzzzzzz']);
  assert.equal(far.status, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
});
