// AutoAttack's driver: the standard suite and custom subsets, reproducibility,
// the reference's checks as warnings (masked gradients, probability outputs,
// randomised models, few classes, Square beating the white-box attacks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tempDir.js';
import { join } from 'node:path';
import { torch, attacks } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Module } from '../../src/nn/index.js';
import { classCountWarnings, squareWarning } from '../../src/attacks/checks.js';
import { fixture } from './fixtures.js';

/** Wraps a model with a change to its input or output. */
class Wrapped extends Module {
  constructor(
    readonly inner: Module,
    readonly change: (inner: Module, x: Tensor) => Tensor,
  ) {
    super();
    this.registerModule('inner', inner);
  }
  forward(x: Tensor): Tensor {
    return this.change(this.inner, x);
  }
}

const fast = { norm: 'linf', epsilon: 0.05, version: 'custom', attacks: ['apgd-ce', 'apgd-t'] } as const;

test('autoAttack (custom: apgd-ce, apgd-t) is reproducible, stays in the threat model and gives the model its mode back', () => {
  const { target, x } = fixture();
  const y = torch.noGrad(() => target.eval().forward(x).argmax(1)); // every point starts correct
  target.train();
  torch.manualSeed(1);
  const run = (seed: number) => attacks.autoAttack(target, x, y, { ...fast, seed, keepAdversarial: true });
  const a = run(3);
  const next = torch.rand([2]).toNumbers();
  torch.manualSeed(1);
  const b = run(3);
  assert.deepEqual(torch.rand([2]).toNumbers(), next, "the caller's random stream is untouched");
  assert.equal(target.training, true);
  assert.deepEqual(a.robust, b.robust);
  assert.deepEqual(a.adversarial!.toNumbers(), b.adversarial!.toNumbers());
  assert.deepEqual(
    a.attacks.map((o) => o.name),
    ['apgd-ce', 'apgd-t'],
  );
  assert.ok(
    a.robustAccuracy <= a.cleanAccuracy && a.robustAccuracy < a.cleanAccuracy,
    `the attacks fool some points: ${a.cleanAccuracy} -> ${a.robustAccuracy}`,
  );
  assert.ok(a.adversarial!.sub(x).abs().amax().item() <= 0.05 + 1e-6);
  a.robust.forEach((r, i) => assert.ok(!r || a.cleanCorrect[i]));
  assert.throws(() => attacks.autoAttack(target, x, y, { norm: 'linf', epsilon: 0.05, attacks: ['square'] }), /use version 'custom'/);
  assert.throws(() => attacks.autoAttack(target, x, y, { ...fast, attacks: ['apgd-x' as 'square'] }), /unknown attack 'apgd-x'/);
});

test('a model with masked gradients triggers the zero-gradient warning', () => {
  const { target, x, y } = fixture();
  // Quantising the input to 8 bits makes the input gradient exactly zero.
  const masked = new Wrapped(target, (m, input) => m.forward(input.mul(255).round().div(255)));
  const r = attacks.autoAttack(masked, x, y, { ...fast, attacks: ['apgd-t'] });
  assert.ok(
    r.warnings.some((w) => /^apgd-t: \d+ of \d+ points have an all-zero input gradient/.test(w)),
    r.warnings.join('\n'),
  );
  const plain = attacks.autoAttack(target, x, y, { ...fast, attacks: ['apgd-t'] });
  assert.ok(!plain.warnings.some((w) => /zero input gradient/.test(w)), plain.warnings.join('\n'));
});

test('probability outputs and randomised models are reported', () => {
  const { target, x, y } = fixture();
  const probabilities = new Wrapped(target, (m, input) => m.forward(input).softmax(1));
  const p = attacks.autoAttack(probabilities, x, y, { ...fast, attacks: ['apgd-ce'] });
  assert.ok(
    p.warnings.some((w) => /look like probabilities/.test(w)),
    p.warnings.join('\n'),
  );
  const noisy = new Wrapped(target, (m, input) => m.forward(input).add(torch.randn([input.shape[0]!, 10]).mul(0.5)));
  const n = attacks.autoAttack(noisy, x, y, { ...fast, attacks: ['apgd-ce'] });
  assert.ok(
    n.warnings.some((w) => /looks randomised/.test(w)),
    n.warnings.join('\n'),
  );
  const quiet = attacks.autoAttack(target, x, y, { ...fast, attacks: ['apgd-ce'] });
  assert.deepEqual(quiet.warnings, []);
});

test('few classes: targeted DLR is skipped with a clear warning, targets are capped', () => {
  const { target, x } = fixture();
  const threeClasses = new Wrapped(target, (m, input) => m.forward(input).narrow(1, 0, 3));
  const y = torch.noGrad(() => threeClasses.eval().forward(x).argmax(1));
  const r = attacks.autoAttack(threeClasses, x, y, { ...fast });
  assert.deepEqual(
    r.attacks.map((a) => a.name),
    ['apgd-ce'],
  );
  assert.ok(r.warnings.includes('apgd-t skipped: the targeted DLR loss needs at least 4 classes, the model has 3'), r.warnings.join('\n'));
  assert.deepEqual(classCountWarnings(5, ['apgd-t', 'fab-t'], { 'apgd-t': 9, 'fab-t': 9 }), [
    'apgd-t: 9 target classes asked for but the model has 5 classes; using 4',
    'fab-t: 9 target classes asked for but the model has 5 classes; using 4',
  ]);
  assert.deepEqual(classCountWarnings(2, ['apgd-dlr'], { 'apgd-t': 9, 'fab-t': 9 }), [
    'apgd-dlr skipped: the DLR loss needs at least 3 classes, the model has 2',
  ]);
  assert.throws(
    () => attacks.apgdTargeted(threeClasses, x, y, { norm: 'linf', epsilon: 0.05 }),
    /targeted DLR loss needs at least 4 classes, the model has 3/,
  );
});

test("Square beating the white-box attacks by more than 0.2 points is reported, as the reference's check does", () => {
  const outcomes = (square: number) => [
    { name: 'apgd-ce', robustAccuracy: 0.5 },
    { name: 'apgd-t', robustAccuracy: 0.48 },
    { name: 'square', robustAccuracy: square },
  ];
  assert.equal(squareWarning(0.9, outcomes(0.479)), null);
  assert.match(squareWarning(0.9, outcomes(0.47)) ?? '', /Square lowered robust accuracy by 1\.00 points below the white-box attacks/);
  assert.equal(squareWarning(0.9, [{ name: 'square', robustAccuracy: 0.1 }]), null, 'Square alone: nothing to compare with');
});

test('autoAttack resumes from its state file', () => {
  const { target, x, y } = fixture();
  const statePath = join(tempDir('d2r-aa-'), 'aa.state.json');
  const whole = attacks.autoAttack(target, x, y, { ...fast, batchSize: 2 });
  let calls = 0;
  const flaky = new Wrapped(target, (m, input) => {
    if (++calls === 40) throw new Error('power cut');
    return m.forward(input);
  });
  assert.throws(() => attacks.autoAttack(flaky, x, y, { ...fast, batchSize: 2, statePath }), /power cut/);
  const resumed = attacks.autoAttack(target, x, y, { ...fast, batchSize: 2, statePath });
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumed.robust, whole.robust);
  assert.deepEqual(
    resumed.attacks.map((a) => a.robustAccuracy),
    whole.attacks.map((a) => a.robustAccuracy),
  );
});

test('AutoAttack versions are one table: standard as the reference sets it; custom takes its budgets; options checked by name', () => {
  const standard = attacks.AUTOATTACK_VERSIONS.standard.linf;
  assert.equal(attacks.AUTOATTACK_VERSIONS.standard.l2, standard);
  assert.deepEqual(standard.attacks, ['apgd-ce', 'apgd-t', 'fab-t', 'square']);
  assert.deepEqual([standard.steps, standard.targets, standard.queries, standard.eot], [100, { 'apgd-t': 9, 'fab-t': 9 }, 5000, 1]);
  assert.ok(Object.values(standard.restarts).every((r) => r === 1));
  assert.deepEqual(attacks.STANDARD_AUTOATTACK, standard.attacks);
  const names = (o: Partial<attacks.AutoAttackSuiteOptions>, classes = 10): string[] =>
    attacks.autoAttackSuite({ norm: 'linf', epsilon: 0.03, ...o }, classes).attacks.map((a) => a.name);
  assert.deepEqual(names({}), [...standard.attacks]);
  assert.deepEqual(names({ version: 'custom', attacks: ['square', 'apgd-dlr'] }), ['square', 'apgd-dlr']);
  const bad: [Partial<attacks.AutoAttackSuiteOptions>, RegExp][] = [
    [{ epsilon: Infinity }, /autoAttack: epsilon must be a finite number >= 0, got Infinity/],
    [{ norm: 'l0' as 'l2' }, /autoAttack: norm must be 'linf', 'l2' or 'l1', got 'l0'/],
    [{ version: 'best' as 'standard' }, /autoAttack: version must be 'standard' or 'plus' or 'rand' or 'custom', got 'best'/],
    [{ version: 'plus', norm: 'l1' }, /autoAttack: version 'plus' has no l1 row/],
    [{ version: 'custom', norm: 'l1', attacks: ['apgd-ce', 'square'] }, /autoAttack: square have no l1 form here/],
    [{ targets: 0 }, /autoAttack: targets must be a positive integer, got 0/],
    [{ queries: 2.5 }, /autoAttack: queries must be a non-negative integer, got 2.5/],
    [{ version: 'custom' }, /autoAttack: version 'custom' needs attacks/],
  ];
  for (const [o, message] of bad) assert.throws(() => names(o), message);
  const { target, x, y } = fixture();
  assert.throws(
    () => attacks.autoAttack(target, x, y, { norm: 'linf', epsilon: 0.03, seed: -2 }),
    /autoAttack: seed must be a non-negative integer, got -2/,
  );
});

test("plus, rand and L1 are the reference's set_version rows", () => {
  const { plus, rand, standard } = attacks.AUTOATTACK_VERSIONS;
  assert.deepEqual(plus.linf.attacks, ['apgd-ce', 'apgd-dlr', 'fab', 'square', 'apgd-t', 'fab-t']);
  assert.deepEqual(plus.linf.restarts, { 'apgd-ce': 5, 'apgd-dlr': 5, fab: 5, square: 1, 'apgd-t': 1, 'fab-t': 1 });
  assert.deepEqual([plus.linf.targets, plus.linf.queries], [{ 'apgd-t': 9, 'fab-t': 9 }, 5000]);
  assert.deepEqual([rand.linf.attacks, rand.linf.eot, rand.linf.restarts['apgd-ce']], [['apgd-ce', 'apgd-dlr'], 20, 1]);
  assert.deepEqual(
    [standard.l1.attacks, standard.l1.restarts['apgd-ce'], standard.l1.targets['apgd-t'], standard.l1.largerEpsilons],
    [['apgd-ce', 'apgd-t'], 5, 5, true],
  );
  const names = (o: Partial<attacks.AutoAttackSuiteOptions>): string[] =>
    attacks.autoAttackSuite({ norm: 'linf', epsilon: 0.03, ...o }, 10).attacks.map((a) => a.name);
  assert.deepEqual(names({ version: 'plus' }), [...plus.linf.attacks]);
  assert.deepEqual(names({ version: 'rand', norm: 'l2' }), ['apgd-ce', 'apgd-dlr']);
  assert.deepEqual(names({ norm: 'l1', epsilon: 5 }), ['apgd-ce', 'apgd-t']);
});

test('individual mode runs each attack alone on all points; the worst case is at most each of them', () => {
  const { target, x } = fixture();
  const y = torch.noGrad(() => target.eval().forward(x).argmax(1));
  const o = { norm: 'linf', epsilon: 0.05, version: 'custom', attacks: ['apgd-ce', 'apgd-dlr', 'fab'], seed: 1 } as const;
  const each = attacks.autoAttackIndividual(target, x, y, o);
  const worst = attacks.autoAttack(target, x, y, o);
  assert.deepEqual(
    each.attacks.map((a) => a.name),
    ['apgd-ce', 'apgd-dlr', 'fab'],
  );
  assert.deepEqual(
    each.attacks[2]!.robust,
    attacks.autoAttack(target, x, y, { ...o, attacks: ['fab'] }).robust,
    'fab alone, on all points',
  );
  assert.equal(each.cleanAccuracy, worst.cleanAccuracy);
  each.attacks.forEach((a) => {
    assert.equal(a.robust.length, x.shape[0]);
    assert.ok(a.robustAccuracy < 1, `${a.name} fools some points alone`);
    // A point robust in the worst case is robust to each attack alone.
    worst.robust.forEach((r, i) => assert.ok(!r || a.robust[i], `${a.name}, point ${i}`));
  });
});

test('every attack checks its seed and an infinite epsilon the same way', () => {
  const { target, x, y } = fixture();
  const runs: [string, (o: { epsilon: number; seed?: number }) => unknown][] = [
    ['pgd', (o) => attacks.pgd(target, x, y, { stepSize: 0.01, steps: 1, ...o })],
    ['apgd', (o) => attacks.apgd(target, x, y, { norm: 'linf', steps: 1, ...o })],
    ['apgdTargeted', (o) => attacks.apgdTargeted(target, x, y, { norm: 'linf', steps: 1, ...o })],
    ['fabTargeted', (o) => attacks.fabTargeted(target, x, y, { norm: 'linf', steps: 1, ...o })],
    ['fab', (o) => attacks.fab(target, x, y, { norm: 'linf', steps: 1, ...o })],
    ['square', (o) => attacks.square(target, x, y, { norm: 'linf', queries: 1, ...o })],
  ];
  for (const [name, run] of runs) {
    assert.throws(() => run({ epsilon: Infinity }), new RegExp(`${name}: epsilon must be a finite number >= 0, got Infinity`));
    assert.throws(() => run({ epsilon: 0.1, seed: 0.5 }), new RegExp(`${name}: seed must be a non-negative integer, got 0.5`));
  }
});
