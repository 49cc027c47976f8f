// Default initialisation: PyTorch's bounds and statistics, and reproducibility under manualSeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

const stats = (t: Tensor) => {
  const v = t.toNumbers();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { min: v.reduce((a, b) => Math.min(a, b)), max: v.reduce((a, b) => Math.max(a, b)), mean, std };
};

test('Linear: weight and bias uniform in +-1/sqrt(inFeatures)', () => {
  const layer = new nn.Linear(400, 300);
  const bound = 1 / Math.sqrt(400);
  const w = stats(layer.weight);
  assert.ok(w.min >= -bound && w.max <= bound);
  assert.ok(w.max > 0.98 * bound && w.min < -0.98 * bound, 'the whole range is used');
  assert.ok(Math.abs(w.std - bound / Math.sqrt(3)) < 0.01 * bound, `std ${w.std}`);
  const b = stats(layer.bias!);
  assert.ok(b.min >= -bound && b.max <= bound && b.max > 0.8 * bound);
});

test('Conv2d: bounds use fan in = inChannels/groups * kernel area', () => {
  const conv = new nn.Conv2d(16, 32, 3, { groups: 2 });
  const bound = 1 / Math.sqrt(8 * 9);
  assert.deepEqual(conv.weight.shape, [32, 8, 3, 3]);
  const w = stats(conv.weight);
  assert.ok(w.min >= -bound && w.max <= bound && w.max > 0.95 * bound);
  const b = stats(conv.bias!);
  assert.ok(b.min >= -bound && b.max <= bound);
});

test('BatchNorm2d starts at weight 1, bias 0, mean 0, var 1, zero batches', () => {
  const bn = new nn.BatchNorm2d(4);
  assert.deepEqual(bn.weight!.toNumbers(), [1, 1, 1, 1]);
  assert.deepEqual(bn.bias!.toNumbers(), [0, 0, 0, 0]);
  assert.deepEqual(bn.runningMean!.toNumbers(), [0, 0, 0, 0]);
  assert.deepEqual(bn.runningVar!.toNumbers(), [1, 1, 1, 1]);
  assert.equal(bn.numBatchesTracked!.dtype, 'int64');
  assert.equal(bn.numBatchesTracked!.item(), 0);
});

test('kaimingNormal_ and normal_ give the requested spread', () => {
  const t = torch.empty([256, 64, 3, 3]);
  nn.init.kaimingNormal_(t);
  const expected = Math.sqrt(2 / (64 * 9));
  const s = stats(t);
  assert.ok(Math.abs(s.std - expected) < 0.02 * expected, `std ${s.std} vs ${expected}`);
  assert.ok(Math.abs(s.mean) < 0.01 * expected);
  nn.init.kaimingNormal_(t, { mode: 'fanOut', nonlinearity: 'relu' });
  assert.ok(Math.abs(stats(t).std - Math.sqrt(2 / (256 * 9))) < 0.02 * Math.sqrt(2 / (256 * 9)));
  nn.init.normal_(t, 3, 0.5);
  assert.ok(Math.abs(stats(t).mean - 3) < 0.01 && Math.abs(stats(t).std - 0.5) < 0.01);
});

test('manualSeed makes initialisation reproducible', () => {
  torch.manualSeed(42);
  const a = new nn.Conv2d(3, 4, 3).weight.toNumbers();
  torch.manualSeed(42);
  const b = new nn.Conv2d(3, 4, 3).weight.toNumbers();
  const c = new nn.Conv2d(3, 4, 3).weight.toNumbers();
  assert.deepEqual(a, b);
  assert.notDeepEqual(b, c);
});
