// SIGTERM stops d2r train and d2r eval as Ctrl-C does (after the batch, state
// saved, lock released) with the shell's codes 143 and 130; an interrupted
// eval says how to resume; two evaluations into one folder refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { d2r, d2rAsync, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

/** Sends `signal` to the child once its stderr matches `when`; resolves with its exit status and stderr. */
function signalWhen(child: ChildProcess, when: RegExp, signal: NodeJS.Signals): Promise<{ status: number | null; stderr: string }> {
  let stderr = '';
  let sent = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!sent && when.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stderr })));
}

/** An evaluation of many short batches: a tiny budget breaks few points, so most of them are attacked in pairs. */
const slowEval = (run: string, out: string): string[] => [
  'eval',
  '--checkpoint',
  run,
  '--n',
  '300',
  '--batch-size',
  '2',
  '--attacks',
  'pgd100',
  '--epsilon',
  '0.001',
  '--threads',
  '1',
  '--out',
  out,
];

test('SIGTERM stops d2r train after the batch with exit 143 and releases the run lock', async () => {
  const dir = tempDir();
  const r = await signalWhen(d2rAsync(trainArgs(dir, { limit: 640, epochs: 3 })), /epoch 1\/3 \d/, 'SIGTERM');
  assert.equal(r.status, 143, r.stderr);
  assert.match(r.stderr, /interrupt received: stopping after this batch \(SIGTERM\)/);
  assert.ok(!existsSync(join(dir, '.d2r.lock')), 'the lock is released');
});

test('an interrupted d2r eval exits 143 (SIGTERM) or 130 (SIGINT), says how to resume, and holds its folder meanwhile', async () => {
  const run = tempDir();
  assert.equal(d2r(trainArgs(run)).status, 0);
  const out = join(tempDir(), 'folder with space', 'eval.json');
  const args = slowEval(run, out);
  const state = join(out, '..', 'eval.state.json');

  const stopped = await signalWhen(d2rAsync(args), /pgd100 \d/, 'SIGTERM');
  assert.equal(stopped.status, 143, stopped.stderr);
  assert.match(stopped.stderr, /interrupted; rerun the same command to resume \(progress saved in .*eval\.state\.json\)/);
  assert.match(stopped.stderr, /'[^']*folder with space[^']*'/, 'the command to rerun is shell-quoted');
  assert.ok(existsSync(state), 'the state is kept');
  assert.ok(!existsSync(join(out, '..', '.d2r.lock')), 'the lock is released');

  const again = await signalWhen(d2rAsync(args), /pgd100 \d/, 'SIGINT');
  assert.equal(again.status, 130, again.stderr);
  assert.match(again.stderr, /interrupted; rerun the same command to resume/);
});

test('a second d2r eval into the folder of a running one refuses with its pid', async () => {
  const run = tempDir();
  assert.equal(d2r(trainArgs(run)).status, 0);
  const out = join(tempDir(), 'eval.json');
  const args = slowEval(run, out);
  const first = d2rAsync(args);
  let second: ReturnType<typeof d2r> | null = null;
  first.stderr!.on('data', () => {
    if (second === null && existsSync(join(out, '..', '.d2r.lock'))) {
      // Stopped, the first cannot finish while the second starts (seconds on a
      // loaded machine); it still holds the lock, and takes the SIGTERM on resuming.
      first.kill('SIGSTOP');
      second = d2r(args);
      first.kill('SIGTERM');
      first.kill('SIGCONT');
    }
  });
  const status = await new Promise((resolve) => first.on('exit', resolve));
  assert.equal(status, 143);
  assert.ok(second !== null, 'the first evaluation took a lock');
  const refused = second as ReturnType<typeof d2r>;
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`in use by another d2r process \\(pid ${first.pid}`));
});
