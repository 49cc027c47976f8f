// Data-parallel runs of `d2r train --nproc-per-node 2` on this machine: the same
// weights as one process with the same global batch (a deterministic method),
// two-model and adversarial methods finish and resume, a checkpoint moves
// between 2 and 1 processes, and a killed worker ends the whole run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import { CLI, d2r, d2rAsync, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { freePort } from '../../src/cli/launch.js';

/**
 * A deterministic run (no dropout, no augmentation): one process and two see the same batches. A
 * per-epoch schedule, so that a 1-epoch run resumed to 2 epochs follows the 2-epoch run's lr (the
 * short-run default decays over the run's length).
 */
const deterministic = (out: string, epochs: number): string[] =>
  trainArgs(out, { dropout: 0, augment: 'off', epochs, schedule: 'constant' });
const onTwo = (args: string[]): string[] => [...args, '--nproc-per-node', '2', '--dist-timeout', '30'];

/** The largest relative difference (L2) between same-named tensors of two safetensors files. */
function largestRelativeDifference(a: string, b: string): number {
  return torch.tidy(() => {
    const x = io.loadSafetensors(a);
    const y = io.loadSafetensors(b);
    assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort());
    return Math.max(
      ...Object.keys(x).map((k) => x[k]!.float().sub(y[k]!.float()).norm().item() / Math.max(y[k]!.float().norm().item(), 1e-12)),
    );
  });
}

interface Rows {
  runs: { worldSize: number | null; resumedAfterEpoch: number }[];
  epochs: { epoch: number; trainLoss: number; evalPoints: number; testCleanAccuracy: number | null }[];
}

function metrics(dir: string): Rows {
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  return {
    runs: rows.filter((r) => r.type === 'run') as unknown as Rows['runs'],
    epochs: rows.filter((r) => r.type === 'epoch') as unknown as Rows['epochs'],
  };
}

function succeeds(args: string[]): void {
  const r = d2r(args);
  assert.equal(r.status, 0, r.stderr);
}

test('two processes train the weights one process trains with the same global batch; a checkpoint moves from 2 to 1 process and back', () => {
  const one = tempDir();
  succeeds(deterministic(one, 2));
  const reference = join(one, 'target.safetensors');
  // Epoch 1 on two processes, epoch 2 on one; and the other way round.
  const twoThenOne = tempDir();
  succeeds(onTwo(deterministic(twoThenOne, 1)));
  succeeds([...deterministic(twoThenOne, 2), '--resume']);
  const oneThenTwo = tempDir();
  succeeds(deterministic(oneThenTwo, 1));
  succeeds(onTwo([...deterministic(oneThenTwo, 2), '--resume']));
  for (const dir of [twoThenOne, oneThenTwo]) {
    const difference = largestRelativeDifference(join(dir, 'target.safetensors'), reference);
    assert.ok(difference < 1e-4, `relative difference ${difference}`);
  }
  assert.deepEqual(
    [twoThenOne, oneThenTwo].map((dir) => metrics(dir).runs.map((r) => [r.worldSize, r.resumedAfterEpoch])),
    [
      [
        [2, 0],
        [1, 1],
      ],
      [
        [1, 0],
        [2, 1],
      ],
    ],
  );
  // Training loss summed over ranks, evaluation gathered over all 16 points.
  const [first] = metrics(one).epochs;
  const [split] = metrics(twoThenOne).epochs;
  assert.ok(Math.abs(split!.trainLoss - first!.trainLoss) < 1e-4 * first!.trainLoss);
  assert.equal(split!.evalPoints, 16);
  assert.equal(split!.testCleanAccuracy, first!.testCleanAccuracy);
  assert.equal((JSON.parse(readFileSync(join(oneThenTwo, 'config.json'), 'utf8')) as { worldSize: number }).worldSize, 2);
});

for (const method of ['d2r', 'pgd-at']) {
  test(`a two-process ${method} run finishes and resumes on two processes`, () => {
    const out = tempDir();
    const args = (epochs: number): string[] => onTwo(trainArgs(out, { method, epochs, steps: 2, evalSteps: 2 }));
    succeeds(args(1));
    succeeds([...args(2), '--resume']);
    const rows = metrics(out);
    assert.deepEqual(
      rows.epochs.map((r) => r.epoch),
      [1, 2],
    );
    assert.deepEqual(
      rows.runs.map((r) => r.worldSize),
      [2, 2],
    );
    assert.ok(existsSync(join(out, 'checkpoints', 'epoch-0002')));
  });
}

test('a global batch that does not split over the processes is refused before any starts', () => {
  const r = d2r(onTwo(trainArgs(tempDir(), { batchSize: 63 })));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--batch-size: expected a multiple of the 2 processes .* got 63/);
  assert.doesNotMatch(r.stderr, /started/);
});

test('a process that torchrun started does not start processes of its own', () => {
  const r = d2r(onTwo(trainArgs(tempDir())), { WORLD_SIZE: '2', RANK: '1' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already is rank 1 of 2/);
});

/**
 * A long two-process run under the launcher: once its first checkpoint is
 * written, `act` runs every 20 ms until it returns true.
 */
async function runUntil(
  out: string,
  act: (launcher: ChildProcess, stderr: string) => boolean,
): Promise<{ code: number | null; stderr: string }> {
  const launcher = d2rAsync(onTwo(trainArgs(out, { epochs: 50, limit: 256 })));
  let stderr = '';
  launcher.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
  const timer = setInterval(() => {
    if (existsSync(join(out, 'checkpoint.json')) && act(launcher, stderr)) clearInterval(timer);
  }, 20);
  const code = await exited;
  clearInterval(timer);
  return { code, stderr };
}

test('a killed worker ends the whole run with an error naming it, and the last checkpoint stays loadable', async () => {
  const out = tempDir();
  const { code, stderr } = await runUntil(out, (_launcher, text) => {
    const pid = /rank 1 pid (\d+)/.exec(text)?.[1];
    if (pid !== undefined) process.kill(Number(pid), 'SIGKILL');
    return pid !== undefined;
  });
  assert.equal(code, 1, stderr);
  assert.match(stderr, /rank 1 \(pid \d+\) was killed by SIGKILL; stopping the other processes/);
  const r = d2r([
    'eval',
    '--checkpoint',
    out,
    '--dataset',
    'fashion-mnist',
    '--n',
    '16',
    '--attacks',
    'none',
    '--out',
    join(out, 'e.json'),
  ]);
  assert.equal(r.status, 0, r.stderr);
});

test("workers started with torchrun's variables form a run; when one dies the other fails within the timeout, naming it", async () => {
  const out = tempDir();
  const timeoutSeconds = 10;
  const port = await freePort();
  const workers = [0, 1].map((rank) => {
    const env = {
      ...process.env,
      CI: 'true',
      RANK: String(rank),
      WORLD_SIZE: '2',
      LOCAL_WORLD_SIZE: '2',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
    };
    const args = [...trainArgs(out, { epochs: 50, limit: 256 }), '--dist-timeout', String(timeoutSeconds)];
    return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  });
  let stderr = '';
  workers[0]!.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => workers[0]!.on('exit', (code) => resolve(code)));
  let killedAt = 0;
  const timer = setInterval(() => {
    if (existsSync(join(out, 'checkpoint.json'))) {
      clearInterval(timer);
      killedAt = performance.now();
      workers[1]!.kill('SIGKILL');
    }
  }, 20);
  const code = await exited;
  clearInterval(timer);
  const seconds = (performance.now() - killedAt) / 1000;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /rank 1/);
  // The timeout, with room for a loaded machine; a hang would never end.
  assert.ok(killedAt > 0 && seconds < 3 * timeoutSeconds, `rank 0 ended ${seconds} s after rank 1 was killed`);
});

test('an interrupt stops every worker at one batch; the run exits 130 with its last checkpoint in force', async () => {
  const out = tempDir();
  const { code, stderr } = await runUntil(out, (launcher) => launcher.kill('SIGINT'));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupt received/);
  const { epoch } = JSON.parse(readFileSync(join(out, 'checkpoint.json'), 'utf8')) as { epoch: number };
  assert.equal(metrics(out).epochs.at(-1)!.epoch, epoch);
  succeeds([...trainArgs(out, { epochs: epoch + 1, limit: 256 }), '--resume']);
});

test('two processes stopped within an epoch checkpoint the batches done, with every rank sum and random stream, and resume to the same weights', async () => {
  // PGD-AT draws random starts on every rank; 512 images at the global batch 64 are 8 batches an epoch.
  const args = (out: string): string[] => onTwo(trainArgs(out, { method: 'pgd-at', epochs: 2, limit: 512, steps: 2, evalSteps: 2 }));
  const straight = tempDir();
  succeeds(args(straight));
  const stopped = tempDir();
  const launcher = d2rAsync(args(stopped));
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    launcher.stderr!.on('data', (chunk: Buffer) => {
      const before = stderr;
      stderr += chunk.toString();
      if (!/epoch 2\/2 \d/.test(before) && /epoch 2\/2 \d/.test(stderr)) launcher.kill('SIGINT');
    });
    launcher.on('exit', (status) => resolve(status));
  });
  assert.equal(code, 130, stderr);
  const pointer = JSON.parse(readFileSync(join(stopped, 'checkpoint.json'), 'utf8')) as { epoch: number; batch?: number };
  assert.equal(pointer.epoch, 1);
  assert.ok(pointer.batch !== undefined && pointer.batch >= 1 && pointer.batch <= 8, JSON.stringify(pointer));
  succeeds([...args(stopped), '--resume']);
  const difference = largestRelativeDifference(join(stopped, 'target.safetensors'), join(straight, 'target.safetensors'));
  assert.ok(difference < 1e-6, `relative difference ${difference}`);
  const [a, b] = [straight, stopped].map((dir) => metrics(dir).epochs.map((r) => [r.epoch, r.trainLoss, r.testCleanAccuracy]));
  assert.deepEqual(b, a);
});
