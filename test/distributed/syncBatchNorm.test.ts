// Synchronised batch norm: the differentiable allreduce under it, and two
// processes training a batch-norm model on halves of each global batch give the
// weights and running statistics of one process on the whole batch (the
// oracle), while per-rank batch norm does not: through the library, and
// through `d2r train --sync-bn` (recorded in config.json, kept on resume).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, nn, optim, torch, type Tensor } from '../../src/index.js';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { runWorkers, writeTrainInputs } from './workers.js';
import { TinyBnCnn } from './tinyBnCnn.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const RANKS = 2;
const STEPS = 3;
const BATCH = 6;
const LR = 0.1;
const MOMENTUM = 0.9;

/** The largest difference between two tensors, relative to the largest magnitude of `expected`. */
function relativeDifference(got: number[], expected: number[]): number {
  assert.equal(got.length, expected.length);
  const norm = Math.max(...expected.map(Math.abs), 1e-12);
  return Math.max(...got.map((v, i) => Math.abs(v - expected[i]!))) / norm;
}

/** One process training TinyBnCnn with plain batch norm on the global batches (every rank's shard of a step together). */
function oneProcess(weights: Map<string, Tensor>, shards: { x: Tensor; y: Tensor }[][]): Record<string, number[]> {
  const model = new TinyBnCnn();
  model.loadStateDict(weights);
  const opt = new optim.SGD(model.parameters(), { lr: LR, momentum: MOMENTUM });
  for (let step = 0; step < STEPS; step++) {
    torch.tidy(() => {
      opt.zeroGrad();
      const x = torch.cat(shards.map((s) => s[step]!.x));
      const y = torch.cat(shards.map((s) => s[step]!.y));
      torch.crossEntropy(model.forward(x), y).backward();
      opt.step();
    });
  }
  return Object.fromEntries([...Object.entries(model.stateDict())].map(([k, t]) => [k, t.toNumbers()]));
}

test('synchronised batch norm on two processes gives the weights and running statistics of one process on the global batch', async () => {
  torch.manualSeed(21);
  const initial = new TinyBnCnn();
  torch.noGrad(() => {
    // Affine weights away from 1 and 0, running statistics away from their start.
    initial.bn.weight!.copy_(torch.rand([4]).add(0.5));
    initial.bn.bias!.copy_(torch.randn([4]).mul(0.2));
    initial.bn.runningMean!.copy_(torch.randn([4]).mul(0.1));
  });
  const weights = new Map(Object.entries(initial.stateDict()).map(([k, t]) => [k, t.clone()]));
  // The ranks' images come from different distributions, so per-rank statistics differ from the global ones.
  const shards = Array.from({ length: RANKS }, (_, rank) =>
    Array.from({ length: STEPS }, () => ({
      x: torch
        .randn([BATCH, 1, 6, 6])
        .mul(1 + rank)
        .add(rank),
      y: torch.randint(0, 3, [BATCH]),
    })),
  );
  const dir = mkdtempSync(join(tmpdir(), 'd2r-syncbn-'));
  try {
    const file = writeTrainInputs(dir, { weights, shards, lr: LR, momentum: MOMENTUM });
    const results = await runWorkers(WORKER, ['syncBatchNorm', file], RANKS, { killAfterMs: 120_000 });
    for (const r of results) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const [r0, r1] = results.map((r) => r.report as Record<string, Record<string, unknown>>);

    // The allreduce: rank r holds [r + 1, 2 (r + 1)] and weighs the sum by [r + 1, -3 (r + 1)].
    for (const r of [r0!, r1!]) {
      assert.deepEqual(r.allReduce!.sum, [3, 6]);
      assert.deepEqual(r.allReduce!.grad, [3, -9], 'the gradient is the sum of every rank’s incoming gradient');
    }

    const expected = oneProcess(weights, shards);
    const synced = r0!.trained!.sync as Record<string, number[]>;
    const perRank = r0!.trained!.perRank as Record<string, number[]>;
    assert.deepEqual(Object.keys(synced).sort(), Object.keys(expected).sort());
    for (const [name, values] of Object.entries(expected)) {
      const difference = relativeDifference(synced[name]!, values);
      assert.ok(difference < 1e-4, `${name}: relative difference ${difference} from one process`);
      const moved = relativeDifference(weights.get(name)!.toNumbers(), values);
      if (name !== 'bn.num_batches_tracked') assert.ok(moved > 1e-3, `${name} did not change in training`);
    }
    assert.deepEqual(expected['bn.num_batches_tracked'], [STEPS]);
    // Every rank holds the same running statistics (and weights) without a broadcast.
    assert.deepEqual(r1!.trained!.sync, synced);
    // Per-rank batch norm (DDP's default) does not give the one-process result: sync matters here.
    for (const name of ['bn.running_mean', 'bn.running_var', 'conv.weight', 'fc.weight']) {
      const difference = relativeDifference(perRank[name]!, expected[name]!);
      assert.ok(difference > 1e-2, `${name}: per-rank batch norm is only ${difference} from one process`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('synchronised batch norm on one process is plain batch norm (up to rounding)', () => {
  torch.manualSeed(3);
  const x = torch.randn([5, 3, 4, 4]).mul(2).add(1);
  const [plain, synced] = [false, true].map((sync) => {
    const bn = new nn.BatchNorm2d(3, { sync });
    return [bn.forward(x), bn.runningMean!, bn.runningVar!, bn.numBatchesTracked!.float()];
  });
  plain!.forEach((expected, i) => assert.ok(torch.allclose(synced![i]!, expected, 1e-5, 1e-6), `output ${i}`));
  const model = new TinyBnCnn();
  assert.equal(nn.convertSyncBatchNorm(model), 1);
  assert.equal(model.bn.sync, true);
  assert.equal(nn.convertSyncBatchNorm(model, false), 1);
  assert.equal(model.bn.sync, false);
});

/** The relative difference (largest over elements) of each same-named tensor of the target weights and buffers of two runs. */
function runDifferences(a: string, b: string): Record<string, number> {
  return torch.tidy(() => {
    const [x, y] = [a, b].map((dir) => io.loadSafetensors(join(dir, 'target.safetensors')));
    assert.deepEqual(Object.keys(x!).sort(), Object.keys(y!).sort());
    return Object.fromEntries(
      Object.keys(y!).map((k) => {
        const [got, expected] = [x![k]!.float(), y![k]!.float()];
        return [k, got.sub(expected).abs().max().item() / Math.max(expected.abs().max().item(), 1e-12)];
      }),
    );
  });
}

test('d2r train --sync-bn: resnet18 on two processes trains as on one; config.json records it', () => {
  // Deterministic (no augmentation, a per-epoch schedule): one batch of 8, 4 images per process.
  const args = (out: string): string[] =>
    trainArgs(out, { model: 'resnet18', augment: 'off', schedule: 'constant', limit: 8, batchSize: 8, evalN: 0, syncBn: true });
  const one = tempDir();
  succeeds(args(one));
  const synced = tempDir();
  succeeds([...args(synced), '--nproc-per-node', '2', '--dist-timeout', '60']);
  const differences = runDifferences(synced, one);
  const largest = Math.max(...Object.values(differences));
  assert.ok(largest < 1e-4, `largest relative difference ${largest}: ${JSON.stringify(differences)}`);
  const config = JSON.parse(readFileSync(join(synced, 'config.json'), 'utf8')) as { config: { syncBn: boolean }; worldSize: number };
  assert.equal(config.config.syncBn, true);
  assert.equal(config.worldSize, 2);
});

test('a resumed run keeps the recorded syncBn; a model without batch norm gets a note that it changes nothing', () => {
  const out = tempDir();
  const args = (epochs: number): string[] => trainArgs(out, { limit: 16, batchSize: 16, evalN: 0, epochs, schedule: 'constant' });
  const note = /note: syncBn: the models have no batch norm layer to synchronise; it changes nothing/;
  assert.match(succeeds([...args(1), '--sync-bn']), note);
  assert.match(succeeds([...args(2), '--resume']), note);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { config: { syncBn: boolean } };
  assert.equal(config.config.syncBn, true);
  assert.doesNotMatch(succeeds(trainArgs(tempDir(), { limit: 16, batchSize: 16, evalN: 0 })), note);
});

/** Runs `d2r args`, which must succeed; its stderr. */
function succeeds(args: string[]): string {
  const r = d2r(args);
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}
