// Zero growth of live tensor handles: PGD-20 runs, AutoAttack on a small batch
// and an evaluation by the worst-case protocol each leave
// torch.memory().numTensors where it started. See docs/memory.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tempDir.js';
import { join } from 'node:path';
import { torch, attacks } from '../../src/index.js';
import { fixture, settledTensorCount } from './fixtures.js';

test('5 PGD-20 runs (L-inf and L2, with restarts and early stop) leave the live tensor handles where they started', () => {
  const { target, x, y } = fixture();
  const before = settledTensorCount();
  for (let run = 0; run < 5; run++) {
    const norm = run % 2 === 0 ? 'linf' : 'l2';
    const epsilon = norm === 'linf' ? 0.1 : 0.8;
    const adv = attacks.pgd(target, x, y, {
      epsilon,
      stepSize: epsilon / 4,
      steps: 20,
      norm,
      seed: run,
      restarts: run === 4 ? 2 : 1,
      earlyStop: run === 3,
    });
    assert.equal(torch.memory().numTensors, before + 1, `run ${run}: only the result is alive`);
    adv.dispose();
  }
  assert.equal(torch.memory().numTensors, before);
});

test('AutoAttack (standard, small budgets) on a small batch leaves the live tensor handles where they started', () => {
  const { target, x } = fixture();
  target.eval();
  // Labels the model predicts, so every point is attacked; a small epsilon so some survive to Square.
  const predicted = torch.noGrad(() => target.forward(x).argmax(1));
  const before = settledTensorCount();
  const result = attacks.autoAttack(target, x, predicted, {
    norm: 'linf',
    epsilon: 0.01,
    targets: 2,
    queries: 50,
    batchSize: 4,
    keepAdversarial: true,
  });
  assert.deepEqual(
    result.attacks.map((a) => a.name),
    ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
  );
  result.adversarial!.dispose();
  assert.equal(torch.memory().numTensors, before);
});

test('an evaluation by the worst-case protocol (with a state file) leaves the live tensor handles where they started', () => {
  const { target, x, y } = fixture();
  const statePath = join(tempDir('d2r-memory-'), 'eval.state.json');
  const named = (name: string, loss: 'ce' | 'margin'): attacks.NamedAttack => ({
    name,
    run: (m, xs, ys) => attacks.pgd(m, xs, ys, { epsilon: 0.05, stepSize: 0.0125, steps: 10, loss }),
  });
  const before = settledTensorCount();
  const result = attacks.worstCase(target, x, y, [named('pgd10', 'ce'), named('cw10', 'margin')], {
    batchSize: 4,
    seed: 0,
    threatModel: { norm: 'linf', epsilon: 0.05 },
    checks: true,
    keepAdversarial: true,
    state: { path: statePath, key: 'memory' },
  });
  assert.equal(result.attacks.length, 2);
  result.adversarial!.dispose();
  assert.equal(torch.memory().numTensors, before);
});
