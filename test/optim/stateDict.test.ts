import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, optim, io } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { tempDir } from '../helpers/tempDir.js';
import { makeProblem, runOurs, type Problem } from './torchReference.js';

const copyOf = (problem: Problem): Problem => ({
  params: problem.params.map((p) => p.detach().clone().requiresGrad_()),
  grads: problem.grads,
});

/** Saves like a checkpoint does: meta as JSON, tensors as safetensors; loads both back. */
function throughFiles(state: optim.OptimizerState): optim.OptimizerState {
  const dir = tempDir();
  io.writeJsonAtomic(join(dir, 'optimizer.json'), state.meta);
  io.saveSafetensors(join(dir, 'optimizer.safetensors'), state.tensors);
  return {
    meta: JSON.parse(readFileSync(join(dir, 'optimizer.json'), 'utf8')),
    tensors: io.loadSafetensors(join(dir, 'optimizer.safetensors')),
  };
}

const makers: [string, (p: Tensor[]) => optim.Optimizer][] = [
  [
    'SGD nesterov',
    (p) =>
      new optim.SGD([{ params: p.slice(0, 1) }, { params: p.slice(1), lr: 0.3 }], {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        weightDecay: 1e-3,
      }),
  ],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.05, weightDecay: 0.01 })],
  [
    'AdamW amsgrad',
    (p) =>
      new optim.AdamW(
        [
          { params: p.slice(0, 2), amsgrad: true },
          { params: p.slice(2), lr: 0.2 },
        ],
        { lr: 0.05 },
      ),
  ],
];

for (const [name, make] of makers) {
  test(`${name}: a run resumed from a saved state dict continues identically`, () => {
    const whole = makeProblem(6);
    const resumed = copyOf(whole);
    runOurs(make(whole.params), whole);
    const first = make(resumed.params);
    runOurs(first, resumed, 0, 3);
    const saved = throughFiles(first.stateDict());
    const second = make(resumed.params);
    optim.setLearningRate(second, 123); // the saved hyper-parameters must win
    second.loadStateDict(saved);
    for (const t of Object.values(saved.tensors)) t.dispose(); // loading copied them
    runOurs(second, resumed, 3);
    resumed.params.forEach((p, i) => assert.deepEqual(p.toNumbers(), whole.params[i]!.toNumbers(), `${name} param ${i}`));
  });
}

test('the state dict numbers parameters across groups as PyTorch does', () => {
  const problem = makeProblem(2);
  const opt = makers[2]![1](problem.params);
  problem.grads.forEach((g) => (g[2] = torch.ones([2])));
  runOurs(opt, problem);
  const { meta, tensors } = opt.stateDict();
  assert.equal(meta.type, 'AdamW');
  assert.deepEqual(
    meta.groups.map((g) => [g.params, g.lr, g.amsgrad]),
    [
      [[0, 1], 0.05, true],
      [[2], 0.2, false],
    ],
  );
  assert.deepEqual(meta.steps, { '0': 2, '1': 2, '2': 2 });
  assert.deepEqual(Object.keys(tensors).sort(), [
    '0.exp_avg',
    '0.exp_avg_sq',
    '0.max_exp_avg_sq',
    '1.exp_avg',
    '1.exp_avg_sq',
    '1.max_exp_avg_sq',
    '2.exp_avg',
    '2.exp_avg_sq',
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(meta)), meta, 'meta is plain JSON');
});

test('a state dict that does not fit is refused, naming the problem, and changes nothing', () => {
  const problem = makeProblem(2);
  const make = (p: Tensor[]): optim.Optimizer => new optim.Adam(p, { lr: 0.05, amsgrad: true });
  const twin = copyOf(problem);
  const opt = make(problem.params);
  runOurs(opt, problem);
  const good = opt.stateDict();
  const edit = (change: (s: optim.OptimizerState) => void): optim.OptimizerState => {
    const s = { meta: structuredClone(good.meta), tensors: { ...good.tensors } };
    change(s);
    return s;
  };
  const cases: [string, optim.OptimizerState, RegExp][] = [
    ['type', edit((s) => (s.meta.type = 'SGD')), /the state is for "SGD", this optimizer is Adam/],
    [
      'groups',
      edit((s) => s.meta.groups.push({ ...s.meta.groups[0]!, params: [3] })),
      /the state has 2 parameter groups, this optimizer 1/,
    ],
    ['layout', edit((s) => (s.meta.groups[0]!.params = [0, 1])), /group 0 holds parameters \[0,1\], this optimizer's \[0,1,2\]/],
    ['option', edit((s) => (s.meta.groups[0]!['momentum'] = 0.9)), /unknown option 'momentum' in saved group 0/],
    ['range', edit((s) => (s.meta.groups[0]!['eps'] = -1)), /eps must be a finite number >= 0/],
    ['step index', edit((s) => (s.meta.steps['7'] = 1)), /steps names parameter "7", but there are 3/],
    ['step count', edit((s) => (s.meta.steps['0'] = 0.5)), /parameter 0 has step count 0.5/],
    ['shape', edit((s) => (s.tensors['1.exp_avg'] = torch.zeros([5]))), /state tensor '1.exp_avg' has shape \[5\], its parameter \[4\]/],
    [
      'stray',
      edit((s) => (s.tensors['0.momentum_buffer'] = torch.zeros([3, 4]))),
      /parameter 0 has state \[exp_avg,exp_avg_sq,max_exp_avg_sq,momentum_buffer\], its options call for \[exp_avg,exp_avg_sq,max_exp_avg_sq\]/,
    ],
    ['missing', edit((s) => delete s.tensors['0.max_exp_avg_sq']), /parameter 0 has state \[exp_avg,exp_avg_sq\], its options call for/],
    ['no step', edit((s) => delete s.meta.steps['1']), /state tensor '1\.exp_avg' names no parameter with a step count/],
  ];
  const twinOpt = make(twin.params);
  runOurs(twinOpt, twin);
  for (const [what, state, message] of cases) assert.throws(() => opt.loadStateDict(state), message, what);
  // Still the state it had: both continue the same way.
  const more = makeProblem(2, 'float32', 9).grads;
  runOurs(opt, { params: problem.params, grads: more });
  runOurs(twinOpt, { params: twin.params, grads: more });
  problem.params.forEach((p, i) => assert.deepEqual(p.toNumbers(), twin.params[i]!.toNumbers()));
});

test('state tensors are converted to the parameter dtype on load', () => {
  const problem = makeProblem(2, 'float64');
  const opt = new optim.SGD(problem.params, { lr: 0.1, momentum: 0.5 });
  runOurs(opt, problem);
  const saved = opt.stateDict();
  const asFloat32 = Object.fromEntries(Object.entries(saved.tensors).map(([k, v]) => [k, v.to('float32')]));
  const again = new optim.SGD(problem.params, { lr: 0.1, momentum: 0.5 });
  again.loadStateDict({ meta: saved.meta, tensors: asFloat32 });
  assert.ok(Object.values(again.stateDict().tensors).every((t) => t.dtype === 'float64'));
});
