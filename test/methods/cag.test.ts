// CAG against its PyTorch transcription (docs/method.md) from a fixed
// start, L-inf and L2, and its contract: p_G computed once, the Gaussian start
// unclamped, modes restored (also on error), parameter gradients untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, methods, attacks } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, Probe } from '../attacks/fixtures.js';

for (const [norm, eps, alpha] of [
  ['linf', 0.1, 0.02],
  ['l2', 0.8, 0.25],
] as const) {
  test(`CAG ${norm} from a fixed init equals PyTorch, stays in the threat model, restores modes`, () => {
    const { target, guidance, x, inputs } = fixture();
    const init = x.add(torch.randn(x.shape).mul(0.001)); // like the default start: slightly outside [0, 1] where x is 0 or 1
    const ref = pytorch('methods.py', 'cag', { ...inputs, init, eps, step: alpha, steps: 5, norm });
    target.train();
    guidance.eval();
    const adv = methods.cag(target, guidance, x, { epsilon: eps, stepSize: alpha, steps: 5, norm, init });
    // Fixed inputs where no gradient element is close enough to 0 for its sign to differ between the engines.
    assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: `cag ${norm}` });
    assert.deepEqual([target.training, guidance.training], [true, false]);
    assert.equal(adv.requiresGrad, false);
    assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    if (norm === 'linf') {
      assert.ok(adv.sub(x.add(eps)).amax().item() <= 0 && adv.sub(x.sub(eps)).amin().item() >= 0);
    } else {
      assert.ok(attacks.perSampleL2(adv.sub(x)).amax().item() <= eps * (1 + 1e-6));
    }
    for (const m of [target, guidance]) for (const p of m.parameters()) assert.equal(p.grad, null, 'CAG touched a parameter gradient');
  });
}

test('CAG computes p_G once and runs the target once per step', () => {
  const { target, guidance, x } = fixture();
  const [t, g] = [new Probe(target), new Probe(guidance)];
  methods.cag(t, g, x, { epsilon: 0.1, stepSize: 0.02, steps: 4 });
  assert.deepEqual([t.calls, g.calls], [4, 1]);
});

test('CAG starts from x + 0.001 N(0, I) without clamping', () => {
  const { target, guidance, x } = fixture();
  torch.manualSeed(12);
  const start = methods.cag(target, guidance, x, { epsilon: 0.1, stepSize: 0.02, steps: 0 });
  torch.manualSeed(12);
  assert.deepEqual(start.toNumbers(), x.add(torch.randnLike(x).mul(0.001)).toNumbers());
  assert.ok(start.amin().item() < 0 && start.amax().item() > 1);
});

test('CAG restores both modes when a model throws', () => {
  const { target, guidance, x } = fixture();
  const t = new Probe(target, 2).train();
  const g = new Probe(guidance).eval();
  assert.throws(() => methods.cag(t, g, x, { epsilon: 0.1, stepSize: 0.02, steps: 3 }), /forward failed/);
  assert.deepEqual([t.training, g.training, target.training, guidance.training], [true, false, true, false]);
});
