// The optimisers step a whole parameter group in one native call (numerics are
// checked against torch.optim in optimizers.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { native } from '../../src/engine/native.js';

/** Counts the calls of one native function while fn runs. */
function countCalls(name: 'sgdStep_' | 'adamStep_', fn: () => void): number[] {
  const original = native[name] as (...args: unknown[]) => void;
  const sizes: number[] = [];
  (native as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
    sizes.push((args[0] as unknown[]).length);
    original(...args);
  };
  try {
    fn();
  } finally {
    (native as unknown as Record<string, unknown>)[name] = original;
  }
  return sizes;
}

function paramsWithGrads(count: number): Tensor[] {
  return Array.from({ length: count }, (_, i) => {
    const p = torch.keep(torch.ones([i + 1]).requiresGrad_());
    p.grad = torch.keep(torch.full([i + 1], 0.5));
    return p;
  });
}

test('SGD with momentum steps all parameters of a group in one native call, the first step apart', () => {
  const params = paramsWithGrads(4);
  const sgd = new optim.SGD(params, { lr: 0.1, momentum: 0.9 });
  assert.deepEqual(
    countCalls('sgdStep_', () => sgd.step()),
    [4],
  );
  assert.deepEqual(
    countCalls('sgdStep_', () => sgd.step()),
    [4],
  );
  // A parameter joining later takes its first step in a call of its own.
  const late = paramsWithGrads(1)[0]!;
  sgd.addParamGroup({ params: [late] });
  params[3]!.grad = null;
  assert.deepEqual(
    countCalls('sgdStep_', () => sgd.step()),
    [3, 1],
  );
  // buffer = g, then 0.9 g + g: the parameter moved by 0.1 * (0.5 + 0.95).
  assert.ok(Math.abs(params[0]!.item() - (1 - 0.1 * 1.45 - 0.1 * (0.9 * 0.95 + 0.5))) < 1e-6);
});

test('Adam makes one native call per parameter group', () => {
  const [a, b, c] = paramsWithGrads(3);
  const adam = new optim.Adam([{ params: [a!, b!] }, { params: [c!], lr: 0.5 }], { lr: 0.01 });
  assert.deepEqual(
    countCalls('adamStep_', () => adam.step()),
    [2, 1],
  );
});

test('the fused steps name a list whose length does not match the parameters', () => {
  const [p] = paramsWithGrads(1);
  assert.throws(
    () => native.sgdStep_([p!.handle], [], [], 0.1, 0, 0, 0, false, false),
    /sgdStep_ grads: expected 1 tensors \(one per parameter\), got 0/,
  );
  assert.throws(
    () => native.adamStep_([p!.handle], [p!.grad!.handle], [], [], [], [1], 0.1, 0.9, 0.999, 1e-8, 0, false, false),
    /adamStep_ exp_avg: expected 1 tensors/,
  );
});
