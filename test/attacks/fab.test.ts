// FAB-T: the box-constrained hyperplane projections and the attack against a
// row-by-row PyTorch transcription of the reference (fra31/auto-attack), and
// the attack's contract: threat model, detached output, modes, seeding,
// misclassified points untouched, option checks, odd shapes and empty batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { fabTargeted, fabTargetedRun, projectionL2, projectionLinf, type FabOptions } from '../../src/attacks/fab.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, Probe } from './fixtures.js';

/** Points in [0, 1] with exact 0s and 1s, hyperplanes at several distances, zero and tiny weights, one all-zero row. */
function projectionInputs(rowsCount: number, dim: number): { t: Tensor; w: Tensor; b: Tensor } {
  let t = torch.rand([rowsCount, dim], { dtype: 'float64' }).mul(1.4).sub(0.2).clamp(0, 1);
  // A few interior points (no coordinate at a face), where close hyperplanes need no capped coordinate.
  const interior = Math.floor(rowsCount / 4);
  t = t.indexCopy(0, torch.arange(rowsCount - interior, rowsCount), torch.rand([interior, dim], { dtype: 'float64' }).mul(0.5).add(0.25));
  let w = torch.randn([rowsCount, dim], { dtype: 'float64' });
  w = w.mul(torch.rand([rowsCount, dim], { dtype: 'float64' }).gt(0.15).to('float64')); // exact zeros
  if (rowsCount > 3) {
    w = w.indexCopy(0, torch.tensor(new BigInt64Array([1n, 2n])), w.narrow(0, 1, 2).mul(1e-9)); // below the L2 cut-off 1e-8
    w = w.indexCopy(0, torch.tensor(new BigInt64Array([3n])), torch.zeros([1, dim], { dtype: 'float64' }));
  }
  const scales = torch
    .tensor([0.003, 0.03, 0.3, 3, 30], { dtype: 'float64' })
    .repeat([Math.ceil(rowsCount / 5)])
    .narrow(0, 0, rowsCount);
  const b = w
    .mul(t)
    .sum(1)
    .add(torch.randn([rowsCount], { dtype: 'float64' }).mul(scales));
  return { t, w, b };
}

test('projectionLinf and projectionL2 equal a row-by-row PyTorch transcription of the reference', () => {
  torch.manualSeed(11);
  const big = projectionInputs(40, 37);
  const tiny = projectionInputs(6, 2);
  const single = projectionInputs(5, 1);
  const inputs: Record<string, Tensor> = {};
  for (const [name, v] of Object.entries({ big, tiny, single }))
    Object.assign(inputs, { [`${name}_t`]: v.t, [`${name}_w`]: v.w, [`${name}_b`]: v.b });
  const ref = pytorch('fab.py', 'projections', { ...inputs, sets: ['big', 'tiny', 'single'] });
  for (const [name, v] of Object.entries({ big, tiny, single })) {
    assertClose(projectionLinf(v.t, v.w, v.b), ref[`${name}_linf`]!, { atol: 1e-12, rtol: 1e-10, what: `${name} linf` });
    assertClose(projectionL2(v.t, v.w, v.b), ref[`${name}_l2`]!, { atol: 1e-12, rtol: 1e-10, what: `${name} l2` });
  }
  // Every case of both projections occurs in the big set (uncapped / capped / out of reach).
  for (const norm of ['linf', 'l2']) {
    const cases = ref[`big_${norm}_cases`]!.data;
    assert.ok(
      cases.every((k) => k >= 2),
      `${norm} cases ${cases}`,
    );
  }
  // t + d stays in the box.
  for (const project of [projectionLinf, projectionL2]) {
    const d = project(big.t, big.w, big.b);
    const moved = big.t.add(d);
    assert.ok(moved.amin().item() >= -1e-12 && moved.amax().item() <= 1 + 1e-12);
  }
  // float32 keeps its dtype.
  assert.equal(projectionLinf(big.t.float(), big.w.float(), big.b.float()).dtype, 'float32');
});

const RUN = { steps: 5, alphaMax: 0.1, eta: 1.05, beta: 0.9 };
const BUDGET = { linf: 0.03, l2: 0.15 } as const;

test('FAB-T iterations from the clean point and the targeted loop equal a PyTorch transcription', () => {
  const { target, x, inputs } = fixture();
  target.eval();
  const z = torch.noGrad(() => target.forward(x));
  const predicted = z.argmax(1);
  const second = z.sort(1).indices.select(1, z.shape[1]! - 2);
  // Labels right on 4 of the 6 points, so the loop skips the other two.
  const labels = torch.where(torch.tensor([1, 1, 0, 1, 1, 0], { dtype: 'bool' }), predicted, predicted.add(1).remainder(10));
  const ref = pytorch('fab.py', 'fab', {
    ...inputs,
    predicted,
    second,
    labels,
    steps: RUN.steps,
    alpha_max: RUN.alphaMax,
    eta: RUN.eta,
    beta: RUN.beta,
    budget: BUDGET,
    loop_steps: 8,
    targets: 3,
  });
  for (const norm of ['linf', 'l2'] as const) {
    target.eval(); // fabTargetedRun leaves the mode to its caller
    const run = fabTargetedRun(target, x, predicted, second, x, { norm, ...RUN });
    assertClose(run.iterate, ref[`${norm}_iterate`]!, { atol: 1e-5, rtol: 0, what: `${norm} iterate` });
    assertClose(run.best, ref[`${norm}_best`]!, { atol: 1e-5, rtol: 0, what: `${norm} best` });
    assert.deepEqual(run.found.toNumbers(), ref[`${norm}_found`]!.data);
    assert.ok(run.found.toNumbers().some(Boolean), 'the iterations found adversarial points');
    target.train();
    const adv = fabTargeted(target, x, labels, { norm, epsilon: BUDGET[norm], steps: 8, targets: 3 });
    assertClose(adv, ref[`${norm}_adv`]!, { atol: 1e-5, rtol: 0, what: `${norm} fabTargeted` });
    assert.equal(target.training, true);
    const changed = adv.sub(x).flatten(1).abs().amax(1).gt(0).toNumbers();
    assert.ok(changed.some(Boolean) && !changed.every(Boolean), `${norm}: some points fooled, not all: ${changed}`);
  }
});

function sizes(adv: Tensor, x: Tensor, norm: 'linf' | 'l2'): number[] {
  const d = adv.sub(x).flatten(1);
  return (norm === 'linf' ? d.abs().amax(1) : d.norm(2, 1)).toNumbers();
}

test('fabTargeted: inside the threat model, detached, misclassified points untouched, fooled points misclassified', () => {
  const { target, x } = fixture();
  target.eval();
  const predicted = torch.noGrad(() => target.forward(x).argmax(1));
  const labels = torch.where(torch.tensor([1, 0, 1, 1, 1, 1], { dtype: 'bool' }), predicted, predicted.add(3).remainder(10));
  target.train();
  const before = Object.entries(target.stateDict()).map(([k, v]) => [k, v.clone()] as const);
  for (const norm of ['linf', 'l2'] as const) {
    const epsilon = BUDGET[norm];
    const adv = fabTargeted(target, x, labels, { norm, epsilon, steps: 20, targets: 2 });
    assert.equal(target.training, true);
    assert.equal(adv.requiresGrad, false);
    assert.deepEqual(adv.shape, x.shape);
    assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    const size = sizes(adv, x, norm);
    size.forEach((s) => assert.ok(s <= epsilon * (1 + 1e-6), `${norm} perturbation ${s} > ${epsilon}`));
    assert.equal(size[1], 0, 'a misclassified point comes back as x');
    const wrong = torch.noGrad(() => target.eval().forward(adv).argmax(1).ne(labels)).toNumbers();
    target.train();
    const fooled = size.map((s) => s > 0);
    assert.ok(fooled.some(Boolean), `${norm}: nothing fooled`);
    fooled.forEach((f, i) => assert.ok(!f || wrong[i], `${norm}: point ${i} moved but is not misclassified`));
  }
  for (const [k, v] of before) assert.deepEqual(target.stateDict()[k]!.toNumbers(), v.toNumbers(), `${k} changed (not in eval mode)`);
});

test("fabTargeted: seeded restarts are reproducible, leave the caller stream alone, and keep the first restart's successes", () => {
  const { target, x } = fixture();
  target.eval();
  const y = torch.noGrad(() => target.forward(x).argmax(1));
  const o: FabOptions = { norm: 'linf', epsilon: 0.02, steps: 10, targets: 2 };
  const once = fabTargeted(target, x, y, o);
  torch.manualSeed(8);
  const a = fabTargeted(target, x, y, { ...o, restarts: 3, seed: 4 });
  const next = torch.rand([3]).toNumbers();
  torch.manualSeed(8);
  const b = fabTargeted(target, x, y, { ...o, restarts: 3, seed: 4 });
  assert.deepEqual(a.toNumbers(), b.toNumbers());
  assert.deepEqual(torch.rand([3]).toNumbers(), next);
  // Without a seed the later restarts draw from the caller's stream.
  torch.manualSeed(8);
  fabTargeted(target, x, y, { ...o, restarts: 3 });
  assert.notDeepEqual(torch.rand([3]).toNumbers(), next);
  const fooledOnce = sizes(once, x, 'linf').map((s) => s > 0);
  const fooledThrice = sizes(a, x, 'linf').map((s) => s > 0);
  assert.ok(fooledOnce.some(Boolean) && !fooledOnce.every(Boolean), `eps fools some points: ${fooledOnce}`);
  fooledOnce.forEach((f, i) => assert.ok(!f || fooledThrice[i], `point ${i} lost by the restarts`));
});

test('fabTargeted: non-square inputs, few classes (targets capped), a batch of one and of zero', () => {
  torch.manualSeed(3);
  const net = new nn.Sequential({
    conv: new nn.Conv2d(3, 2, 3),
    relu: new nn.ReLU(),
    flat: new nn.Flatten(),
    fc: new nn.Linear(2 * 3 * 5, 5),
  });
  const x = torch.rand([4, 3, 5, 7]);
  const y = torch.noGrad(() => net.forward(x).argmax(1));
  const adv = fabTargeted(net, x, y, { norm: 'l2', epsilon: 1, steps: 10 }); // targets 9 -> 4
  assert.deepEqual(adv.shape, [4, 3, 5, 7]);
  const fooled = sizes(adv, x, 'l2').map((s) => s > 0);
  assert.ok(fooled.some(Boolean));
  const wrong = torch.noGrad(() => net.forward(adv).argmax(1).ne(y)).toNumbers();
  fooled.forEach((f, i) => assert.ok(!f || wrong[i]));
  const one = fabTargeted(net, x.narrow(0, 0, 1), y.narrow(0, 0, 1), { norm: 'linf', epsilon: 0.1, steps: 3 });
  assert.deepEqual(one.shape, [1, 3, 5, 7]);
  const empty = fabTargeted(net, x.narrow(0, 0, 0), y.narrow(0, 0, 0), { norm: 'linf', epsilon: 0.1 });
  assert.deepEqual(empty.shape, [0, 3, 5, 7]);
});

test('fabTargeted restores the mode when the model throws and rejects bad inputs and options by name', () => {
  const { target, x } = fixture();
  target.eval();
  const y = torch.noGrad(() => target.forward(x).argmax(1));
  const o: FabOptions = { norm: 'linf', epsilon: 0.1, steps: 3 };
  for (const mode of [true, false]) {
    const failing = new Probe(target, 4).train(mode);
    assert.throws(() => fabTargeted(failing, x, y, o), /forward failed/);
    assert.equal(failing.training, mode);
  }
  assert.throws(() => fabTargeted(target, x.mul(2), y, o), /fabTargeted: expected x in \[0, 1\]/);
  assert.throws(() => fabTargeted(target, x, y.narrow(0, 0, 2), o), /fabTargeted: expected y/);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ norm: 'l1' }, /fabTargeted: norm must be 'linf' or 'l2', got 'l1'/],
    [{ epsilon: -0.1 }, /fabTargeted: epsilon must be a finite number >= 0/],
    [{ epsilon: Number.NaN }, /fabTargeted: epsilon must be/],
    [{ steps: 1.5 }, /fabTargeted: steps must be a non-negative integer, got 1.5/],
    [{ targets: 0 }, /fabTargeted: targets must be a positive integer, got 0/],
    [{ restarts: 0 }, /fabTargeted: restarts must be a positive integer, got 0/],
    [{ alphaMax: 1.5 }, /fabTargeted: alphaMax must be in \[0, 1\]/],
    [{ eta: 0 }, /fabTargeted: eta must be a finite number > 0/],
    [{ beta: -0.1 }, /fabTargeted: beta must be in \[0, 1\]/],
    [{ seed: -1 }, /fabTargeted: seed must be a non-negative integer/],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => fabTargeted(target, x, y, { ...o, ...change } as unknown as FabOptions), message);
  }
});
