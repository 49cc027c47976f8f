import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { makeProblem, runOurs, runTorch, assertMatchesTorch, type TorchOptimizer } from './torchReference.js';

// [name, our optimiser, torch.optim's over the same parameters]
const cases: [string, (p: Tensor[]) => optim.Optimizer, TorchOptimizer][] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.1 }), { type: 'SGD', options: { lr: 0.1 } }],
  ['SGD weight decay', (p) => new optim.SGD(p, { lr: 0.1, weightDecay: 0.05 }), { type: 'SGD', options: { lr: 0.1, weight_decay: 0.05 } }],
  ['SGD momentum', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9 }), { type: 'SGD', options: { lr: 0.1, momentum: 0.9 } }],
  [
    'SGD momentum weight decay',
    (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 }),
    { type: 'SGD', options: { lr: 0.1, momentum: 0.9, weight_decay: 2e-4 } },
  ],
  [
    'SGD dampening',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }),
    { type: 'SGD', options: { lr: 0.05, momentum: 0.8, dampening: 0.3, weight_decay: 0.01 } },
  ],
  [
    'SGD nesterov',
    (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    { type: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1e-3 } },
  ],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01 }), { type: 'Adam', options: { lr: 0.01 } }],
  [
    'Adam weight decay betas eps',
    (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-3 }),
    { type: 'Adam', options: { lr: 0.01, weight_decay: 0.1, betas: [0.8, 0.99], eps: 1e-3 } },
  ],
  [
    'Adam amsgrad',
    (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true }),
    { type: 'Adam', options: { lr: 0.01, weight_decay: 0.1, amsgrad: true } },
  ],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.05 }), { type: 'AdamW', options: { lr: 0.01, weight_decay: 0.05 } }],
  ['AdamW default weight decay', (p) => new optim.AdamW(p, { lr: 0.3 }), { type: 'AdamW', options: { lr: 0.3 } }],
  [
    'AdamW amsgrad',
    (p) => new optim.AdamW(p, { lr: 0.02, amsgrad: true, betas: [0.5, 0.9] }),
    { type: 'AdamW', options: { lr: 0.02, amsgrad: true, betas: [0.5, 0.9] } },
  ],
];

for (const [name, make, torchOptimizer] of cases) {
  test(`${name} matches torch.optim over 5 steps (float32), skipping the parameter without grad`, () => {
    const problem = makeProblem(5);
    const untouched = problem.params[2]!.toNumbers();
    const ref = runTorch(problem, torchOptimizer);
    const opt = make(problem.params);
    runOurs(opt, problem);
    assertMatchesTorch(opt, problem, ref, name);
    assert.deepEqual(problem.params[2]!.toNumbers(), untouched, 'a parameter without grad does not move');
    assert.ok(!('2' in opt.stateDict().meta.steps), 'and has no state');
  });
}

test('the formulas agree with torch.optim to float64 precision', () => {
  for (const [name, make, torchOptimizer] of cases) {
    const problem = makeProblem(4, 'float64', 3);
    const ref = runTorch(problem, torchOptimizer);
    const opt = make(problem.params);
    runOurs(opt, problem);
    assertMatchesTorch(opt, problem, ref, `${name} float64`, { atol: 1e-13, rtol: 1e-12 });
  }
});

test('parameter groups keep their own hyper-parameters', () => {
  const problem = makeProblem(4);
  const ref = runTorch(problem, {
    type: 'Adam',
    options: { lr: 0.01 },
    groups: [{ params: [0] }, { params: [1, 2], lr: 0.5, betas: [0.5, 0.6], amsgrad: true }],
  });
  const [w, b, c] = problem.params;
  const opt = new optim.Adam([{ params: [w!] }, { params: [b!, c!], lr: 0.5, betas: [0.5, 0.6], amsgrad: true }], { lr: 0.01 });
  runOurs(opt, problem);
  assertMatchesTorch(opt, problem, ref, 'Adam groups');
  assert.deepEqual(
    opt.paramGroups.map((g) => g.options.lr),
    [0.01, 0.5],
  );
});

test('addParamGroup during a run matches add_param_group', () => {
  const problem = makeProblem(5);
  const [w, b, c] = problem.params;
  problem.grads.forEach((g, k) => (g[2] = k >= 2 ? torch.randn([2]) : null)); // c learns once added
  const ref = runTorch(
    problem,
    { type: 'SGD', options: { lr: 0.1, momentum: 0.9, nesterov: true }, groups: [{ params: [0, 1] }] },
    { afterStep: 1, group: { params: [2], lr: 0.3, momentum: 0.5, nesterov: false } },
  );
  const opt = new optim.SGD([w!, b!], { lr: 0.1, momentum: 0.9, nesterov: true });
  runOurs(opt, problem, 0, 2);
  opt.addParamGroup({ params: [c!], lr: 0.3, momentum: 0.5, nesterov: false });
  runOurs(opt, problem, 2);
  assertMatchesTorch(opt, problem, ref, 'SGD add group');
});

test('zeroGrad sets gradients to null', () => {
  const p = torch.ones([2]).requiresGrad_();
  const opt = new optim.SGD([p], { lr: 1 });
  p.grad = torch.ones([2]);
  opt.zeroGrad();
  assert.equal(p.grad, null);
  opt.step(); // nothing to do
  assert.deepEqual(p.toNumbers(), [1, 1]);
});

test('invalid settings are refused with a message naming them', () => {
  const p = torch.zeros([2]).requiresGrad_();
  const q = torch.zeros([2]).requiresGrad_();
  assert.throws(() => new optim.SGD([], { lr: 0.1 }), /SGD: got an empty parameter list/);
  assert.throws(() => new optim.SGD([p], { lr: -1 }), /SGD: lr must be a finite number >= 0, got -1/);
  assert.throws(() => new optim.SGD([p], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0 and dampening 0/);
  assert.throws(() => new optim.SGD([p], { lr: 0.1, momentun: 0.9 } as never), /unknown option 'momentun'/);
  assert.throws(() => new optim.SGD([{ params: [p] }, { params: [q, p] }], { lr: 0.1 }), /more than once/);
  assert.throws(() => new optim.SGD([{ params: [p], lr: 'fast' } as never], { lr: 0.1 }), /option 'lr' in parameter group must be like/);
  assert.throws(() => new optim.Adam([p], { betas: [0.9, 1] }), /Adam: betas must be two numbers in \[0, 1\)/);
  assert.throws(() => new optim.AdamW([p], { eps: Number.NaN }), /AdamW: eps must be a finite number >= 0/);
  const opt = new optim.SGD([p], { lr: 0.1 });
  assert.throws(() => opt.addParamGroup({ params: [q], momentum: -0.5 }), /momentum must be a finite number >= 0/);
  assert.equal(opt.paramGroups.length, 1, 'a refused group is not added');
});

test('step frees its temporaries and keeps its state: memory stays flat over 3,000 steps', () => {
  // 40 KB tensors: a leaked temporary per step would add 120 MB. (Tensors of
  // several MB are avoided: glibc's heap then grows by itself, see the engine notes.)
  const p = torch.randn([100, 100]).requiresGrad_();
  const grad = torch.randn([100, 100]);
  const opt = new optim.Adam([p], { amsgrad: true, weightDecay: 0.1 });
  const step = (): void => {
    p.grad = grad;
    opt.step();
  };
  for (let k = 0; k < 1500; k++) step();
  const before = process.memoryUsage().rss;
  for (let k = 0; k < 3000; k++) step();
  const growthMb = (process.memoryUsage().rss - before) / 2 ** 20;
  assert.ok(growthMb < 40, `resident set grew by ${growthMb.toFixed(1)} MB`);
  const { tensors, meta } = opt.stateDict();
  assert.deepEqual(Object.keys(tensors).sort(), ['0.exp_avg', '0.exp_avg_sq', '0.max_exp_avg_sq']);
  assert.equal(meta.steps['0'], 4500);
  opt.dispose();
  assert.ok(
    Object.values(tensors).every((t) => t.isDisposed),
    'dispose frees the state',
  );
  assert.deepEqual(opt.stateDict().tensors, {});
});
