// APGD against a PyTorch transcription of the reference algorithm from a fixed
// start (L-inf and L2, CE and targeted DLR), the checkpoint schedule, the DLR
// losses, and the contract: threat model, modes, seeding, few classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, Probe } from './fixtures.js';

test('APGD checkpoints: 22, 41, 57, 70, 80, 87, 93, 99 for 100 iterations', () => {
  assert.deepEqual(attacks.apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  assert.deepEqual(attacks.apgdCheckpoints(10), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(attacks.apgdCheckpoints(1), [1]);
});

test('DLR and targeted DLR equal the sort-based formulas computed by PyTorch', () => {
  torch.manualSeed(3);
  const z = torch.randn([7, 10]).mul(3);
  const y = torch.randint(0, 10, [7]);
  const t = torch.randint(0, 10, [7]);
  const ref = pytorch('attacks.py', 'dlr', { z, y, t });
  assertClose(attacks.dlrLoss(z, y), ref['dlr']!, { atol: 1e-6, rtol: 1e-5, what: 'dlr' });
  assertClose(attacks.targetedDlrLoss(z, y, t), ref['dlrt']!, { atol: 1e-6, rtol: 1e-5, what: 'targeted dlr' });
  assert.throws(() => attacks.dlrLoss(z.narrow(1, 0, 2), y.clamp(0, 1)), /DLR loss needs at least 3 classes, the model has 2/);
  assert.throws(
    () => attacks.targetedDlrLoss(z.narrow(1, 0, 3), y.clamp(0, 2), t.clamp(0, 2)),
    /targeted DLR loss needs at least 4 classes/,
  );
});

const cases = [
  { norm: 'linf', loss: 'ce', epsilon: 0.05, steps: 25 },
  { norm: 'l2', loss: 'ce', epsilon: 0.5, steps: 25 },
  { norm: 'linf', loss: 'dlr-t', epsilon: 0.05, steps: 25 },
] as const;

for (const c of cases) {
  test(`one APGD run (${c.norm}, ${c.loss}) from a fixed start equals the PyTorch transcription`, () => {
    const { target, x, y, inputs } = fixture();
    target.eval();
    const start = attacks.randomStart(x, c.epsilon, c.norm, 'sphere');
    const tgt = attacks.rankedClasses(target, x, 1)!;
    const ref = pytorch('attacks.py', 'apgd_run', { ...inputs, start, tgt, loss: c.loss, eps: c.epsilon, norm: c.norm, steps: c.steps });
    const loss = (z: Tensor): Tensor =>
      c.loss === 'ce' ? torch.crossEntropy(z, y, { reduction: 'none' }) : attacks.targetedDlrLoss(z, y, tgt);
    const run = attacks.apgdRun(target, x, y, start, loss, { norm: c.norm, epsilon: c.epsilon, steps: c.steps, rho: 0.75 });
    assertClose(run.adv, ref['adv']!, { atol: 1e-5, rtol: 0, what: `apgd ${c.norm} ${c.loss}` });
    assert.deepEqual(
      Array.from(run.fooled.toUint8Array()),
      ref['fooled']!.data.map((v) => (v ? 1 : 0)),
    );
  });
}

test('APGD-CE and APGD-T work on non-square colour inputs, stay in the threat model and are reproducible', () => {
  torch.manualSeed(5);
  const model = new nn.Sequential({ flat: new nn.Flatten(), fc: new nn.Linear(3 * 5 * 9, 6) });
  const x = torch.rand([5, 3, 5, 9]);
  const y = torch.noGrad(() => model.forward(x).argmax(1));
  for (const norm of ['linf', 'l2', 'l1'] as const) {
    const epsilon = { linf: 0.1, l2: 0.8, l1: 3 }[norm];
    const o = { norm, epsilon, steps: 20, seed: 2, largerEpsilons: norm === 'l1' };
    for (const adv of [attacks.apgd(model, x, y, o), attacks.apgdTargeted(model, x, y, { ...o, targets: 9 })]) {
      assert.deepEqual(adv.shape, [5, 3, 5, 9]);
      const size = attacks.perSampleNorm(adv.sub(x), norm).amax().item();
      assert.ok(size <= epsilon * (1 + 1e-6), `${norm} perturbation ${size}`);
      assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    }
    assert.deepEqual(attacks.apgd(model, x, y, o).toNumbers(), attacks.apgd(model, x, y, o).toNumbers());
  }
  assert.throws(() => attacks.apgd(model, x, y, { norm: 'linf', epsilon: 0.1, steps: 0 }), /apgd: steps must be a positive integer, got 0/);
  assert.throws(() => attacks.apgd(model, x, y, { norm: 'l0' as 'l2', epsilon: 0.1 }), /norm must be 'linf', 'l2' or 'l1', got 'l0'/);
  assert.throws(
    () => attacks.apgd(model, x, y, { norm: 'linf', epsilon: 0.1, largerEpsilons: true }),
    /apgd: largerEpsilons is for norm 'l1', got norm 'linf'/,
  );
  assert.throws(() => attacks.apgd(model, x, y, { norm: 'linf', epsilon: 0.1, eot: 0 }), /apgd: eot must be a positive integer, got 0/);
  // Points the model already gets wrong come back unchanged.
  const wrongLabels = y.add(1).remainder(6);
  assert.deepEqual(attacks.apgd(model, x, wrongLabels, { norm: 'linf', epsilon: 0.1, steps: 5 }).toNumbers(), x.toNumbers());
});

test('EOT: each APGD gradient is averaged over eot forward/backward passes (start and every step)', () => {
  const { target, x } = fixture();
  const y = torch.noGrad(() => target.eval().forward(x).argmax(1)); // every point is attacked
  const calls = (eot: number): number => {
    const probe = new Probe(target);
    attacks.apgd(probe, x, y, { norm: 'linf', epsilon: 0.1, steps: 4, eot, seed: 0 });
    return probe.calls;
  };
  assert.equal(calls(3) - calls(1), 2 * (4 + 1));
});

test('the L1 projection lands in the L1 ball and the box, on its surface when it shrinks, and leaves inside points alone', () => {
  torch.manualSeed(3);
  const x = torch.rand([4, 1, 5, 5]);
  const far = torch.randn([4, 1, 5, 5]);
  const moved = far.add(attacks.l1Projection(x, far, 2));
  const point = x.add(moved);
  assert.ok(point.amin().item() >= -1e-6 && point.amax().item() <= 1 + 1e-6, 'in the box');
  const sizes = attacks.perSampleNorm(moved, 'l1').toNumbers();
  for (const size of sizes) assert.ok(Math.abs(size - 2) < 1e-4, `on the sphere: ${size}`);
  const near = x.mul(0).add(0.5);
  const small = torch.full([4, 1, 5, 5], 0.01);
  assert.equal(attacks.l1Projection(near, small, 2).abs().amax().item(), 0);
});
