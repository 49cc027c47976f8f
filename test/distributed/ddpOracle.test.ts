// The oracle we did not write: PyTorch's DistributedDataParallel (Gloo, two
// processes) and two d2r processes with GradientAverager train the same small
// CNN from the same weights on the same shards; the weights must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torch, type Tensor } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { runWorkers, writeTrainInputs } from './workers.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const RANKS = 2;
const STEPS = 4;
const BATCH = 5;

test('2-process GradientAverager training gives the weights of PyTorch DDP (Gloo) on the same shards', async () => {
  torch.manualSeed(12);
  // TinyCnn of test/oracles/ddp.py: conv 1->4 (3x3) on 6x6 images, linear 64 -> 3.
  const weights: Record<string, Tensor> = {
    'conv.weight': torch.randn([4, 1, 3, 3]).mul(0.3),
    'conv.bias': torch.randn([4]).mul(0.1),
    'fc.weight': torch.randn([3, 64]).mul(0.1),
    'fc.bias': torch.randn([3]).mul(0.1),
  };
  const shards = Array.from({ length: RANKS }, () =>
    Array.from({ length: STEPS }, () => ({ x: torch.randn([BATCH, 1, 6, 6]), y: torch.randint(0, 3, [BATCH]) })),
  );
  const inputs = { weights, shards, lr: 0.1, momentum: 0.9 };

  const dir = mkdtempSync(join(tmpdir(), 'd2r-ddp-'));
  try {
    const file = writeTrainInputs(dir, inputs);
    const results = await runWorkers(WORKER, ['train', file], RANKS, { killAfterMs: 300_000 });
    for (const r of results) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const ours = results[0]!.report!.weights as Record<string, number[]>;
    const oracle = pytorch('ddp.py', 'train', inputs);
    for (const [name, initial] of Object.entries(weights)) {
      const expected = oracle[name]!.data;
      const got = ours[name]!;
      assert.equal(got.length, expected.length, name);
      let diff = 0;
      let norm = 0;
      got.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(v - expected[i]!));
        norm = Math.max(norm, Math.abs(expected[i]!));
      });
      assert.ok(diff / norm < 1e-4, `${name}: relative difference ${diff / norm}`);
      // The weights moved: the comparison is not of the initial weights with themselves.
      const moved = Math.max(...initial.toNumbers().map((v, i) => Math.abs(v - expected[i]!)));
      assert.ok(moved > 1e-3, `${name} did not change in training`);
    }
    assert.deepEqual(results[1]!.report!.weights, ours, 'both ranks end with the same weights');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
