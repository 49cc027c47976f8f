// Progress within a batch: every attack tells its steps (or queries) as it goes,
// counted over its runs (restarts, targets, L1 stages), without changing what it
// finds; the protocol turns them into points for onProgress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { worstCase, type NamedAttack } from '../../src/attacks/worstCase.js';

/** A linear model on 1 x 4 x 4 images with 10 classes, and 6 points it classifies as labelled. */
function linearSetting(): { model: nn.Sequential; x: Tensor; y: Tensor } {
  torch.manualSeed(11);
  const model = new nn.Sequential({ flat: new nn.Flatten(), fc: new nn.Linear(16, 10) });
  const x = torch.rand([6, 1, 4, 4]).mul(0.6).add(0.2);
  const y = torch.noGrad(() => model.forward(x).argmax(1));
  return { model, x, y };
}

// Budgets so small (eps 1e-4) that no point is fooled: every run goes to its last step.
const TINY = 1e-4;
const CASES: { name: string; total: number; run: (m: nn.Sequential, x: Tensor, y: Tensor, onStep?: attacks.StepSink) => Tensor }[] = [
  {
    name: 'pgd, 2 restarts of 5 steps',
    total: 10,
    run: (m, x, y, onStep) => attacks.pgd(m, x, y, { epsilon: TINY, stepSize: TINY / 4, steps: 5, restarts: 2, seed: 1, onStep }),
  },
  {
    name: 'apgd-ce, 2 restarts of 10 steps',
    total: 20,
    run: (m, x, y, onStep) => attacks.apgd(m, x, y, { norm: 'linf', epsilon: TINY, steps: 10, restarts: 2, seed: 1, onStep }),
  },
  {
    name: 'apgd-ce l1 through larger epsilons (3 stages of one run of 10 steps)',
    total: 10,
    run: (m, x, y, onStep) =>
      attacks.apgd(m, x, y, { norm: 'l1', epsilon: TINY, steps: 10, restarts: 1, largerEpsilons: true, seed: 1, onStep }),
  },
  {
    name: 'apgd-t, 3 targets of 8 steps',
    total: 24,
    run: (m, x, y, onStep) =>
      attacks.apgdTargeted(m, x, y, { norm: 'linf', epsilon: TINY, steps: 8, targets: 3, restarts: 1, seed: 1, onStep }),
  },
  {
    name: 'fab, 2 restarts of 4 steps',
    total: 8,
    run: (m, x, y, onStep) => attacks.fab(m, x, y, { norm: 'linf', epsilon: TINY, steps: 4, restarts: 2, seed: 1, onStep }),
  },
  {
    name: 'fab-t, 2 targets of 2 restarts of 3 steps',
    total: 12,
    run: (m, x, y, onStep) =>
      attacks.fabTargeted(m, x, y, { norm: 'linf', epsilon: TINY, steps: 3, targets: 2, restarts: 2, seed: 1, onStep }),
  },
  {
    name: 'square, 2 restarts of 30 queries',
    total: 60,
    run: (m, x, y, onStep) => attacks.square(m, x, y, { norm: 'linf', epsilon: TINY, queries: 30, restarts: 2, seed: 1, onStep }),
  },
];

for (const c of CASES) {
  test(`${c.name} tells every step, 1 to ${c.total} of ${c.total}, and finds what it finds without being told`, () => {
    const { model, x, y } = linearSetting();
    const told: [number, number][] = [];
    const followed = c.run(model, x, y, (done, total) => told.push([done, total]));
    const quiet = c.run(model, x, y);
    assert.deepEqual(
      told,
      Array.from({ length: c.total }, (_, i) => [i + 1, c.total]),
    );
    assert.equal(followed.sub(quiet).abs().amax().item(), 0, 'progress changes nothing');
    assert.ok(followed.sub(x).abs().amax().item() <= TINY + 1e-6, 'it stays in the tiny ball');
  });
}

test('an attack that fools every point early stops short of its total', () => {
  const { model, x, y } = linearSetting();
  const told: number[] = [];
  attacks.square(model, x, y, { norm: 'linf', epsilon: 0.5, queries: 200, seed: 1, onStep: (done) => told.push(done) });
  assert.ok(told.length < 200, `told ${told.length} of 200 queries`);
  assert.deepEqual(
    told,
    told.map((_, i) => i + 1),
  );
});

test('the protocol reports a batch in progress by its share of steps done, as whole points that never decrease', () => {
  const { model, x, y } = linearSetting();
  const x7 = torch.cat([x, x.narrow(0, 0, 1)], 0);
  const y7 = torch.cat([y, y.narrow(0, 0, 1)], 0);
  const given: boolean[] = [];
  // Four steps per batch, fooling nothing.
  const stepping: NamedAttack = {
    name: 'stepping',
    run(_m, xs, _y, { onStep }) {
      given.push(onStep !== undefined);
      for (let k = 1; k <= 4; k++) onStep?.(k, 4);
      return xs.clone();
    },
  };
  const reports: number[] = [];
  worstCase(model, x7, y7, [stepping], {
    batchSize: 3,
    seed: 0,
    onProgress: (attack, done, total) => {
      assert.equal(attack, 'stepping');
      assert.equal(total, 7);
      reports.push(done);
    },
  });
  // Before the first batch, then per batch its four steps and its end: 3 points (0, 1, 2, 3), 3, then 1.
  assert.deepEqual(reports, [0, 0, 1, 2, 3, 3, 3, 4, 5, 6, 6, 6, 6, 6, 7, 7]);
  // Without onProgress, the attack is not asked to tell its steps.
  worstCase(model, x7, y7, [stepping], { batchSize: 3, seed: 0 });
  assert.deepEqual(given, [true, true, true, false, false, false]);
});
