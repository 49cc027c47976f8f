// Targeted attacks with a chosen target per point (PGD, APGD-T, FAB-T), and
// the choice of targets (least likely, random), against PyTorch where it computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, CLASSES } from './fixtures.js';

test('targeted pgd from a fixed start equals PyTorch and moves towards the target', () => {
  const { target, x, y, inputs } = fixture();
  const goal = attacks.chooseTargets(target, x, y, 'random', { seed: 3 });
  const init = attacks.project(x.add(torch.randn(x.shape).mul(0.05)), x, 0.1, 'linf');
  const o = { epsilon: 0.1, stepSize: 0.03, steps: 5, norm: 'linf', randomStart: 'none', init } as const;
  const ref = pytorch('targets.py', 'pgd_targeted', { ...inputs, init, target: goal, eps: 0.1, step: 0.03, steps: 5, norm: 'linf' });
  const adv = attacks.pgd(target, x, y, { ...o, target: goal });
  assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: 'targeted pgd' });
  const logProb = (a: typeof x) => torch.noGrad(() => target.eval().forward(a).logSoftmax(1).gather(1, goal.unsqueeze(1)).sum().item());
  assert.ok(logProb(adv) > logProb(x), 'the target got more likely');
  assert.throws(() => attacks.pgd(target, x, y, { ...o, target: goal, loss: 'margin' }), /pgd: a target needs loss 'ce', got 'margin'/);
  assert.throws(() => attacks.pgd(target, x, y, { ...o, target: goal.narrow(0, 0, 2) }), /pgd: expected one target per point \(6\), got 2/);
  assert.throws(() => attacks.pgd(target, x, y, { ...o, target: goal.float() }), /pgd: expected target as int64 \[N\]/);
});

test('least-likely targets are the lowest clean logit (as PyTorch); random targets avoid the label and follow the seed', () => {
  const { target, x, y, inputs } = fixture();
  const least = attacks.chooseTargets(target, x, y, 'least-likely', { batchSize: 4 });
  assert.deepEqual(least.toNumbers(), pytorch('targets.py', 'least_likely', inputs)['target']!.data);
  const draw = (seed: number) => attacks.chooseTargets(target, x, y, 'random', { seed }).toNumbers();
  const labels = y.toNumbers();
  for (let seed = 0; seed < 5; seed++) draw(seed).forEach((t, i) => assert.ok(t !== labels[i] && t >= 0 && t < CLASSES));
  assert.deepEqual(draw(4), draw(4));
  assert.throws(
    () => attacks.chooseTargets(target, x, y, 'likely' as 'random'),
    /chooseTargets: expected 'least-likely' or 'random', got 'likely'/,
  );
});

test('APGD-T and FAB-T with chosen targets attack those targets: the runner-up chosen equals the first ranked target', () => {
  const { target, x } = fixture();
  const y = torch.noGrad(() => target.eval().forward(x).argmax(1));
  const runnerUp = torch.noGrad(() => target.forward(x).sort(1, true).indices.select(1, 1).contiguous());
  const o = { norm: 'linf', epsilon: 0.05, steps: 10, seed: 2 } as const;
  assert.deepEqual(
    attacks.apgdTargeted(target, x, y, { ...o, target: runnerUp }).toNumbers(),
    attacks.apgdTargeted(target, x, y, { ...o, targets: 1 }).toNumbers(),
  );
  assert.deepEqual(
    attacks.fabTargeted(target, x, y, { ...o, target: runnerUp }).toNumbers(),
    attacks.fabTargeted(target, x, y, { ...o, targets: 1 }).toNumbers(),
  );
  // Another target gives another attack.
  const least = attacks.chooseTargets(target, x, y, 'least-likely');
  assert.notDeepEqual(
    attacks.apgdTargeted(target, x, y, { ...o, target: least }).toNumbers(),
    attacks.apgdTargeted(target, x, y, { ...o, target: runnerUp }).toNumbers(),
  );
  // In AutoAttack each batch gets its own points' targets.
  const suite = { norm: 'linf', epsilon: 0.05, version: 'custom', attacks: ['apgd-t', 'fab-t'], seed: 2, batchSize: 2 } as const;
  const chosen = attacks.autoAttack(target, x, y, { ...suite, target: runnerUp, keepAdversarial: true });
  const ranked = attacks.autoAttack(target, x, y, { ...suite, targets: 1, keepAdversarial: true });
  assert.deepEqual(chosen.adversarial!.toNumbers(), ranked.adversarial!.toNumbers());
  assert.throws(
    () => attacks.autoAttack(target, x, y, { ...suite, target: runnerUp.narrow(0, 0, 3) }),
    /one target per point \(6\), got 3/,
  );
});
