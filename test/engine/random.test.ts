// Reproducible randomness and thread controls: seeds give bit-identical
// streams (the same ones PyTorch's CPU generator gives), the generator state
// restores a stream exactly, and the thread count can be set and read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';

const bytes = (t: Tensor): number[] => Array.from(new Uint8Array((t.data() as Uint8Array).buffer));
const draws: [string, () => Tensor][] = [
  ['rand', () => torch.rand([37])],
  ['randn', () => torch.randn([41])],
  ['randn float64', () => torch.randn([9], { dtype: 'float64' })],
  ['randint', () => torch.randint(0, 1000, [20])],
  ['randperm', () => torch.randperm(30)],
  ['dropout mask', () => torch.dropout(torch.ones([64]), 0.5, true)],
];
const drawAll = (): number[][] => torch.tidy(() => draws.map(([, draw]) => bytes(draw())));

test('manualSeed twice gives bit-identical rand/randn/randint/randperm/dropout streams', () => {
  for (const seed of [0, 1, 2 ** 40 + 3]) {
    torch.manualSeed(seed);
    const first = drawAll();
    torch.manualSeed(seed);
    assert.deepEqual(drawAll(), first, `seed ${seed}`);
  }
  torch.manualSeed(1);
  const one = drawAll();
  torch.manualSeed(2);
  assert.notDeepEqual(drawAll()[0], one[0], 'different seeds give different streams');
  assert.throws(() => torch.manualSeed(-1), /non-negative integer/);
  assert.throws(() => torch.manualSeed(1.5), /non-negative integer/);
});

test('a seed gives the same rand, randn and randperm as PyTorch with that seed', () => {
  torch.manualSeed(1234);
  const ours = [torch.rand([5]), torch.randn([20]), torch.randperm(10)];
  const ref = pytorch('engine.py', 'seeded_draws', { seed: 1234 });
  assert.deepEqual(ours[0]!.toNumbers(), ref['u']!.data);
  assert.deepEqual(ours[1]!.toNumbers(), ref['z']!.data);
  assert.deepEqual(ours[2]!.toNumbers(), ref['p']!.data);
});

test('getRngState / setRngState replay a stream exactly, across other draws and reseeding', () => {
  torch.manualSeed(77);
  torch.rand([3]);
  const state = torch.getRngState();
  assert.equal(state.dtype, 'uint8');
  const expected = drawAll();
  torch.manualSeed(5);
  drawAll();
  torch.setRngState(state);
  assert.deepEqual(drawAll(), expected);
  torch.setRngState(state);
  assert.deepEqual(drawAll(), expected, 'the saved state is not consumed by restoring it');
});

test('setNumThreads / getNumThreads', () => {
  const original = torch.getNumThreads();
  assert.ok(Number.isInteger(original) && original >= 1);
  for (const n of [1, 2, 3]) {
    torch.setNumThreads(n);
    assert.equal(torch.getNumThreads(), n);
  }
  assert.throws(() => torch.setNumThreads(0), /positive/);
  torch.setNumThreads(original);
  assert.equal(torch.getNumThreads(), original);
  assert.match(torch.libtorchVersion(), /^\d+\.\d+/);
});
