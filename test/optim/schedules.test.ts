import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, optim } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';

const EPOCHS = 12;
const ITERATIONS = 5;
const epochs = Array.from({ length: EPOCHS }, (_, i) => i + 1);

function assertCloseList(actual: number[], expected: number[], what: string, tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${what}[${i}]: ${a} vs PyTorch ${expected[i]}`));
}

test('multiStep and cosineAnnealing match torch.optim.lr_scheduler, per epoch and per iteration', () => {
  const ref = pytorch('optim.py', 'schedules', {
    lr: 0.1,
    schedules: {
      multi: { type: 'MultiStepLR', kwargs: { milestones: [4, 9], gamma: 0.1 }, steps: EPOCHS },
      multiRepeated: { type: 'MultiStepLR', kwargs: { milestones: [7, 3, 3], gamma: 0.5 }, steps: EPOCHS },
      cos: { type: 'CosineAnnealingLR', kwargs: { T_max: EPOCHS, eta_min: 0.001 }, steps: EPOCHS },
      cosIter: { type: 'CosineAnnealingLR', kwargs: { T_max: EPOCHS * ITERATIONS }, steps: EPOCHS * ITERATIONS },
    },
  });
  assertCloseList(epochs.map(optim.multiStep(0.1, [4, 9], 0.1)), ref['multi']!.data, 'MultiStepLR');
  assertCloseList(epochs.map(optim.multiStep(0.1, [7, 3, 3], 0.5)), ref['multiRepeated']!.data, 'MultiStepLR repeated milestones');
  assertCloseList(epochs.map(optim.cosineAnnealing(0.1, EPOCHS, 0.001)), ref['cos']!.data, 'CosineAnnealingLR', 1e-9);
  const cosine = optim.cosineAnnealing(0.1, EPOCHS);
  const perIteration = epochs.flatMap((e) => Array.from({ length: ITERATIONS }, (_, i) => cosine(optim.epochAt(e, i, ITERATIONS))));
  assertCloseList(perIteration, ref['cosIter']!.data, 'CosineAnnealingLR per iteration', 1e-9);
});

test('step schedules change only where an epoch starts', () => {
  const multi = optim.multiStep(1, [2], 0.1);
  assert.deepEqual([1, 2, 2.99, 3, 3.5].map(multi), [1, 1, 1, 0.1, 0.1]);
  assert.equal(optim.cosineAnnealing(1, 4, 0)(5), 0);
  assert.equal(optim.cosineAnnealing(1, 4, 0)(50), 0, 'cosine stays at its minimum after the last epoch');
});

test('piecewise schedules, both forms, hand-checked', () => {
  const byEpoch = optim.piecewiseByEpoch([
    [1, 0.02],
    [75, 0.1],
    [90, 0.01],
    [100, 0.001],
  ]);
  assert.deepEqual([1, 1.5, 2, 75, 76, 90, 91, 100, 120].map(byEpoch), [0.02, 0.02, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.001]);
  const byBoundaries = optim.piecewiseConstant([2, 76, 91], [0.02, 0.1, 0.01, 0.001]);
  for (const e of [1, 2, 75, 76, 90, 91, 100]) assert.equal(byBoundaries(e), byEpoch(e), `epoch ${e}`);
  assert.throws(() => optim.piecewiseConstant([2, 1], [1, 2, 3]), /non-decreasing/);
  assert.throws(() => optim.piecewiseConstant([2], [1]), /one more value than boundaries/);
  assert.throws(() => optim.piecewiseByEpoch([]), /at least one/);
});

test('linear warm-up wraps any schedule', () => {
  const warm = optim.withLinearWarmup(optim.multiStep(1, [6], 0.1), 4);
  assert.deepEqual([1, 2, 3, 4, 5, 7].map(warm), [0.25, 0.5, 0.75, 1, 1, 0.1]);
  assert.deepEqual([1.5, 4.5].map(warm), [0.375, 1], 'per iteration: smooth ramp, full lr within the last warm-up epoch');
  const toCosine = optim.withLinearWarmup(optim.cosineAnnealing(0.2, 10), 2);
  assert.equal(toCosine(2), optim.cosineAnnealing(0.2, 10)(3), 'by default the ramp ends where the wrapped schedule continues');
  assert.equal(optim.withLinearWarmup(() => 7, 2, 0.4)(1), 0.2, 'or at an explicit lr');
  const plain = optim.cosineAnnealing(0.2, 10);
  assert.equal(optim.withLinearWarmup(plain, 0), plain);
});

test('setLearningRate sets every group', () => {
  const a = torch.zeros([1]).requiresGrad_();
  const b = torch.zeros([1]).requiresGrad_();
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
  optim.setLearningRate(opt, 0.02);
  assert.deepEqual(
    opt.paramGroups.map((g) => g.options.lr),
    [0.02, 0.02],
  );
  b.grad = torch.ones([1]);
  opt.step();
  assert.ok(Math.abs(b.item() + 0.02) < 1e-9);
  assert.throws(() => optim.setLearningRate(opt, -1), /lr must be a finite number >= 0/);
});
