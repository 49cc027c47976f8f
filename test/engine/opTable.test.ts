// The op table is the single source of the native boundary: the generated files
// must match it, and the addon must export exactly the functions it lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/engine/native.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

test('the generated boundary files are current with native/ops.table.mjs', () => {
  execFileSync(process.execPath, ['scripts/generate-ops.mjs', '--check'], { cwd: root, stdio: 'pipe' });
});

test('the addon exports exactly the functions of the op table', async () => {
  const { ops } = (await import(new URL('native/ops.table.mjs', `file://${root}/`).href)) as { ops: { sig: string }[] };
  const listed = ops.map((op) => /^(\w+)\(/.exec(op.sig)![1]!).sort();
  assert.deepEqual(Object.keys(native).sort(), listed);
});

test('a wrong argument type names its position; a short call names the op', () => {
  const t = native.zeros([2], 6, null);
  assert.throws(() => (native.add as (...args: unknown[]) => unknown)(t, 'x'), /argument 1: expected a tensor handle or a number/);
  assert.throws(() => (native.add as (...args: unknown[]) => unknown)(t), /add: expected 2 arguments, got 1/);
  native.dispose(t);
});
