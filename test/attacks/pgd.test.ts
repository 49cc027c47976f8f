// PGD against a PyTorch transcription from a fixed start (L-inf and L2, CE and
// margin), and its contract: detached output in the threat model, modes
// restored also on error, seeding, restarts and option checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, Probe } from './fixtures.js';

const cases = [
  { norm: 'linf', loss: 'ce', epsilon: 0.1, stepSize: 0.03 },
  { norm: 'l2', loss: 'ce', epsilon: 0.8, stepSize: 0.3 },
  { norm: 'linf', loss: 'margin', epsilon: 0.1, stepSize: 0.03 },
] as const;

for (const c of cases) {
  test(`pgd ${c.norm} ${c.loss} from a fixed start equals PyTorch and stays in the threat model`, () => {
    const { target, x, y, inputs } = fixture();
    const init = attacks.project(x.add(torch.randn(x.shape).mul(0.05)), x, c.epsilon, c.norm);
    const ref = pytorch('attacks.py', 'pgd', { ...inputs, init, loss: c.loss, eps: c.epsilon, step: c.stepSize, steps: 5, norm: c.norm });
    target.train();
    const adv = attacks.pgd(target, x, y, { epsilon: c.epsilon, stepSize: c.stepSize, steps: 5, norm: c.norm, loss: c.loss, init });
    // Fixed inputs where no gradient element is close enough to 0 for its sign to differ between the engines.
    assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: `pgd ${c.norm} ${c.loss}` });
    assert.equal(target.training, true);
    assert.equal(adv.requiresGrad, false);
    assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    const size = c.norm === 'linf' ? adv.sub(x).abs().amax().item() : attacks.perSampleL2(adv.sub(x)).amax().item();
    assert.ok(size <= c.epsilon * (1 + 1e-6), `perturbation ${size}`);
    assert.ok(size > c.epsilon / 2, 'the attack moved');
  });
}

test('pgd restores the model mode when the model throws, and rejects bad inputs and options', () => {
  const { target, x, y } = fixture();
  const failing = new Probe(target, 3).train();
  assert.throws(() => attacks.pgd(failing, x, y, { epsilon: 0.1, stepSize: 0.03, steps: 5 }), /forward failed/);
  assert.equal(failing.training, true);
  assert.equal(target.training, true);
  failing.eval();
  failing.calls = 0;
  assert.throws(() => attacks.pgd(failing, x, y, { epsilon: 0.1, stepSize: 0.03, steps: 5 }), /forward failed/);
  assert.equal(failing.training, false);
  const budget = { epsilon: 0.1, stepSize: 0.03, steps: 2 };
  assert.throws(() => attacks.pgd(target, x.mul(2), y, budget), /pgd: expected x in \[0, 1\]/);
  assert.throws(() => attacks.pgd(target, x, y, { ...budget, steps: 1.5 }), /steps must be a non-negative integer/);
  assert.throws(() => attacks.pgd(target, x, y, { ...budget, epsilon: -1 }), /pgd: epsilon must be a finite number >= 0, got -1/);
  assert.throws(
    () => attacks.pgd(target, x, y, { ...budget, epsilon: Infinity }),
    /pgd: epsilon must be a finite number >= 0, got Infinity/,
  );
  assert.throws(
    () => attacks.pgd(target, x, y, { ...budget, stepSize: Number.NaN }),
    /pgd: stepSize must be a finite number >= 0, got NaN/,
  );
  assert.throws(() => attacks.pgd(target, x, y, { ...budget, seed: 1.5 }), /pgd: seed must be a non-negative integer, got 1.5/);
  assert.throws(
    () => attacks.pgd(target, x, y, { ...budget, randomStart: 'cube' as 'none' }),
    /pgd: randomStart must be 'uniform', 'gaussian' or 'none', got 'cube'/,
  );
  assert.throws(() => attacks.pgd(target, x, y, { ...budget, restarts: 0 }), /restarts must be a positive integer/);
});

test('pgd with a seed is reproducible and leaves the global random stream alone; gaussian and none starts', () => {
  const { target, x, y } = fixture();
  const o = { epsilon: 0.1, stepSize: 0.03, steps: 3, seed: 4 };
  torch.manualSeed(8);
  const a = attacks.pgd(target, x, y, o);
  const next = torch.rand([3]).toNumbers();
  torch.manualSeed(8);
  const b = attacks.pgd(target, x, y, o);
  assert.deepEqual(a.toNumbers(), b.toNumbers());
  assert.deepEqual(torch.rand([3]).toNumbers(), next);
  assert.notDeepEqual(attacks.pgd(target, x, y, { ...o, seed: 5 }).toNumbers(), a.toNumbers());
  // Zero steps return the start itself.
  const gaussian = attacks.pgd(target, x, y, { ...o, steps: 0, randomStart: 'gaussian' });
  torch.manualSeed(4);
  assert.deepEqual(gaussian.toNumbers(), x.add(torch.randnLike(x).mul(0.001)).toNumbers());
  assert.deepEqual(attacks.pgd(target, x, y, { ...o, steps: 0, randomStart: 'none' }).toNumbers(), x.toNumbers());
});

test('pgd restarts keep every point the first restart fooled, and fool at least as many', () => {
  const { target, x } = fixture();
  target.eval();
  const y = torch.noGrad(() => target.forward(x).argmax(1)); // every point starts correctly classified
  const fooled = (adv: Tensor): boolean[] => Array.from(torch.noGrad(() => target.forward(adv).argmax(1).ne(y)).toUint8Array(), Boolean);
  const o = { epsilon: 0.03, stepSize: 0.01, steps: 3, seed: 2 };
  const once = fooled(attacks.pgd(target, x, y, o));
  const thrice = fooled(attacks.pgd(target, x, y, { ...o, restarts: 3 }));
  assert.ok(once.some(Boolean) && !once.every(Boolean), `the budget fools some points but not all: ${once}`);
  once.forEach((f, i) => assert.ok(!f || thrice[i], `point ${i} was fooled by the first restart but not kept`));
});

test('the model is in eval mode inside pgd (BatchNorm running statistics unchanged)', () => {
  const { target, x, y } = fixture();
  target.train();
  const before = Object.entries(target.stateDict()).map(([k, v]) => [k, v.clone()] as const);
  attacks.pgd(target, x, y, { epsilon: 0.1, stepSize: 0.03, steps: 3 });
  for (const [k, v] of before) assert.deepEqual(target.stateDict()[k]!.toNumbers(), v.toNumbers(), `${k} changed`);
});

test('pgd with the KL-to-clean loss equals the PyTorch transcription (TRADES inner maximisation)', () => {
  const { target, x, y, inputs } = fixture();
  const init = attacks.project(x.add(torch.randn(x.shape).mul(0.05)), x, 0.1, 'linf');
  const ref = pytorch('attacks.py', 'pgd', { ...inputs, init, loss: 'kl', eps: 0.1, step: 0.03, steps: 5, norm: 'linf' });
  const adv = attacks.pgd(target, x, y, { epsilon: 0.1, stepSize: 0.03, steps: 5, loss: 'kl', init });
  assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: 'pgd kl' });
  assert.throws(
    () => attacks.pgd(target, x, y, { epsilon: 0.1, stepSize: 0.03, steps: 1, loss: 'dlr' as 'ce' }),
    /loss must be 'ce', 'margin' or 'kl'/,
  );
});

test('pgd with early stop keeps each point at its first fooling iterate', () => {
  const { target, x } = fixture();
  target.eval();
  const y = torch.noGrad(() => target.forward(x).argmax(1));
  const o = { epsilon: 0.08, stepSize: 0.02, steps: 6, init: x };
  const iterates = Array.from({ length: o.steps + 1 }, (_, s) => attacks.pgd(target, x, y, { ...o, steps: s }));
  const wrong = iterates.map((a) => torch.noGrad(() => target.forward(a).argmax(1).ne(y)).toNumbers());
  const stopped = attacks.pgd(target, x, y, { ...o, earlyStop: true });
  let fooledEarly = 0;
  for (let i = 0; i < x.shape[0]!; i++) {
    const first = wrong.findIndex((w) => w[i] === 1);
    if (first >= 0 && first < o.steps) fooledEarly++;
    const expected = iterates[first >= 0 ? first : o.steps]!.select(0, i);
    assert.deepEqual(stopped.select(0, i).toNumbers(), expected.toNumbers(), `point ${i} (first fooled at step ${first})`);
  }
  assert.ok(fooledEarly > 0, 'some point is fooled before the last step');
});
