// Worker processes on localhost, through the distributed library: every
// collective, DDP's gradient averaging, and a dead or stuck peer failing the
// other ranks within the timeout with an error that names it. Process starts
// are the cost here, so each run of workers checks as much as it can.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nn, torch } from '../../src/index.js';
import { runWorkers, type WorkerResult } from './workers.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const TIMEOUT_SECONDS = 3;
// Far beyond the timeout: a worker still running then has hung.
const KILL_AFTER_MS = 30 * TIMEOUT_SECONDS * 1000;

async function run(args: string[], n: number, env: Record<string, string> = {}): Promise<WorkerResult[]> {
  return runWorkers(WORKER, args, n, { killAfterMs: KILL_AFTER_MS, env: { D2R_TEST_TIMEOUT: String(TIMEOUT_SECONDS), ...env } });
}

function reportOf(r: WorkerResult): Record<string, unknown> {
  assert.equal(r.code, 0, `rank ${r.rank} exited with ${r.code ?? r.signal}:\n${r.stderr}`);
  assert.ok(r.report, `rank ${r.rank} printed no report:\n${r.stdout}\n${r.stderr}`);
  return r.report;
}

let healthy: Record<string, Record<string, unknown>>[] = [];
before(async () => {
  healthy = (await run(['healthy'], 2)).map((r) => reportOf(r) as Record<string, Record<string, unknown>>);
});

test('allReduce (sum, avg, mean, max, min), broadcast, allGather and barrier across two processes', () => {
  for (const [rank, { collectives: r }] of healthy.entries()) {
    assert.equal(r!.rank, rank);
    assert.equal(r!.worldSize, 2);
    assert.equal(r!.localRank, rank);
    // rank r holds [r + 1, -10 (r + 1), 0.5]
    assert.deepEqual(r!.sum, [3, -30, 1]);
    assert.deepEqual(r!.avg, [1.5, -15, 0.5]);
    assert.deepEqual(r!.mean, [1.5, -15, 0.5]);
    assert.deepEqual(r!.max, [2, -10, 0.5]);
    assert.deepEqual(r!.min, [1, -20, 0.5]);
    assert.deepEqual(r!.sumInt64, [3, 14]);
    assert.deepEqual(r!.sumTransposed, [1, 5, 3, 7]);
    assert.deepEqual(r!.broadcastFrom1, [101, 102]);
    assert.deepEqual(r!.allGather, [
      [0, 0],
      [1, 2],
    ]);
    assert.equal(r!.barrier, true);
    assert.match(String(r!.avgIntError), /'avg' needs a floating-point tensor/);
  }
});

test('GradientAverager: rank 0 weights everywhere, then the mean gradient over ranks in flat buckets', () => {
  const [r0, r1] = healthy.map((h) => h.gradients!);
  assert.ok(Number(r0!.buckets) > 1, 'tiny buckets should give several');
  assert.deepEqual(r1!.weights, r0!.weights, 'broadcastFromRank0 gives every rank rank 0 weights');
  assert.deepEqual(r1!.grads, r0!.grads, 'every rank ends with the same gradients');
  // The same gradients computed here, in one process, from each rank's inputs.
  const [weight, bias, extra] = r0!.weights as number[][];
  const perRank = [r0!, r1!].map((r, rank) => {
    const layer = new nn.Linear(3, 2);
    torch.noGrad(() => {
      layer.weight.copy_(torch.tensor(weight!).reshape([2, 3]));
      layer.bias!.copy_(torch.tensor(bias!));
    });
    const extraParam = torch.tensor(extra!).requiresGrad_(true);
    let loss = layer
      .forward(torch.tensor(r.inputs as number[]).reshape([2, 3]))
      .square()
      .sum();
    if (rank === 0) loss = loss.add(extraParam.mul(3).sum());
    loss.backward();
    return [layer.weight.grad!, layer.bias!.grad!, extraParam.grad ?? torch.zeros([2])].map((g) => g.toNumbers());
  });
  const grads = r0!.grads as (number[] | null)[];
  for (let p = 0; p < 3; p++) {
    const mean = perRank[0]![p]!.map((v, i) => (v + perRank[1]![p]![i]!) / 2);
    grads[p]!.forEach((v, i) =>
      assert.ok(Math.abs(v - mean[i]!) <= 1e-6 * (1 + Math.abs(mean[i]!)), `param ${p}[${i}]: ${v} vs ${mean[i]}`),
    );
  }
  assert.deepEqual(grads[2], [1.5, 1.5], 'a parameter used on rank 0 only: its gradient over two ranks');
  assert.equal(grads[3], null, 'a parameter no rank used keeps no gradient');
});

test('a rank that does not call the collective makes the other fail by the timeout, not hang', () => {
  const r = healthy[0]!.stuck!;
  assert.equal(r.name, 'DistributedError', JSON.stringify(r));
  assert.equal(r.failedRank, null, 'every rank is alive: none is named');
  assert.match(String(r.message), new RegExp(`did not complete within ${TIMEOUT_SECONDS} s although every rank is alive`));
  // Gloo's own timeout plus room for a loaded machine; the sleeping rank wakes 4 s after it.
  assert.ok(Number(r.elapsedMs) < TIMEOUT_SECONDS * 1000 + 2500, `failed after ${r.elapsedMs} ms`);
});

/** The survivors of a run where `victim` killed itself: each fails within the timeout naming it. */
function assertNamed(results: WorkerResult[], victim: number): void {
  assert.equal(results[victim]!.signal, 'SIGKILL');
  for (const survivor of results.filter((r) => r.rank !== victim)) {
    const r = reportOf(survivor);
    assert.equal(r.name, 'DistributedError', JSON.stringify(r));
    assert.equal(r.failedRank, victim);
    assert.deepEqual(r.failedRanks, [victim]);
    assert.match(String(r.message), new RegExp(`rank ${victim}\\b.*did not respond within ${TIMEOUT_SECONDS} s`));
    assert.ok(Number(r.elapsedMs) < TIMEOUT_SECONDS * 1000, `rank ${survivor.rank} failed after ${r.elapsedMs} ms, beyond the timeout`);
  }
}

test('a killed rank 2 of three makes both others fail within the timeout, naming rank 2', async () => {
  assertNamed(await run(['dies', '2'], 3), 2);
});

test('a killed rank 0 (the store host) makes the other fail within the timeout, naming rank 0', async () => {
  assertNamed(await run(['dies', '0'], 2), 0);
});

test('a rank that never comes makes initProcessGroup fail with its rank', async () => {
  // One worker of a world of two: rank 0 serves the store and waits for rank 1.
  const [alone] = await run(['healthy'], 1, { D2R_TEST_TIMEOUT: '1', D2R_TEST_WORLD_SIZE: '2' });
  const init = reportOf(alone!).initError as { name: string; message: string; failedRanks: number[] };
  assert.equal(init.name, 'DistributedError');
  assert.deepEqual(init.failedRanks, [1]);
  assert.match(init.message, /rank 1 did not join the process group at 127\.0\.0\.1:\d+ within 1 s/);
});
