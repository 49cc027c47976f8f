// robustAccuracy: the per-point worst case of clean and attacked, batch by
// batch, with the model's mode restored; pgd20 is the paper family's PGD-20.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import { fixture } from './fixtures.js';

function correct(model: Module, x: Tensor, y: Tensor): boolean[] {
  model.eval();
  return Array.from(torch.noGrad(() => model.forward(x).argmax(1).eq(y)).toUint8Array(), Boolean);
}

/** Labels the model gets right on 4 of the 6 points, so both outcomes occur. */
function halfRightLabels(model: Module, x: Tensor): Tensor {
  model.eval();
  const predicted = torch.noGrad(() => model.forward(x).argmax(1));
  const wrong = predicted.add(1).remainder(10);
  return torch.where(torch.tensor([1, 0, 1, 0, 1, 1], { dtype: 'bool' }), predicted, wrong);
}

test('robustAccuracy without an attack is the clean accuracy, for any batch size; the mode comes back', () => {
  const { target, x } = fixture();
  const y = halfRightLabels(target, x);
  const clean = correct(target, x, y).filter(Boolean).length / 6;
  assert.equal(clean, 4 / 6);
  target.train();
  for (const batchSize of [1, 4, 6, 100])
    assert.equal(
      attacks.robustAccuracy(target, x, y, (_m, xb) => xb, batchSize),
      clean,
    );
  assert.equal(target.training, true);
});

test('robustAccuracy counts a point only when it is right both clean and attacked', () => {
  const { target, x } = fixture();
  // An "attack" that replaces every point by point 0, so the attacked prediction is c[0] everywhere.
  const toFirst = (_m: Module, xb: Tensor): Tensor => x.narrow(0, 0, 1).expand(xb.shape).contiguous();
  target.eval();
  const c = torch.noGrad(() => target.forward(x).argmax(1)).toNumbers();
  const others = c.flatMap((ci, i) => (ci !== c[0] ? [i] : []));
  assert.ok(others.length >= 2, `the fixture predicts at least two points differently from point 0: ${c}`);
  // Labels c[0] except one point labelled with its own prediction: one point is right only clean,
  // one only attacked, so the worst case is below both accuracies.
  const labels = c.map(() => c[0]!);
  labels[others[1]!] = c[others[1]!]!;
  const y = torch.tensor(BigInt64Array.from(labels, BigInt));
  const clean = correct(target, x, y);
  const attacked = correct(target, toFirst(target, x), y);
  const fraction = (f: boolean[]): number => f.filter(Boolean).length / 6;
  const expected = fraction(clean.map((ci, i) => ci && attacked[i]!));
  assert.ok(expected < fraction(clean) && expected < fraction(attacked));
  assert.equal(attacks.robustAccuracy(target, x, y, toFirst, 4), expected);
});

test('pgd20 is PGD on CE, 20 steps of eps/4 from a uniform start; robustAccuracy under it matches a direct run', () => {
  const { target, x } = fixture();
  const y = halfRightLabels(target, x);
  const attack = attacks.pgd20(0.05, 'linf', 3);
  const direct = attacks.pgd(target, x, y, { epsilon: 0.05, stepSize: 0.0125, steps: 20, loss: 'ce', randomStart: 'uniform', seed: 3 });
  assert.deepEqual(attack(target, x, y).toNumbers(), direct.toNumbers());
  const clean = correct(target, x, y);
  const adv = correct(target, direct, y);
  const expected = clean.filter((c, i) => c && adv[i]).length / 6;
  assert.equal(attacks.robustAccuracy(target, x, y, attack, 6), expected);
  assert.ok(attacks.robustAccuracy(target, x, y, attack, 6) <= 4 / 6);
  assert.throws(() => attacks.robustAccuracy(target, x, y, attack, 0), /batchSize must be a positive integer/);
});
