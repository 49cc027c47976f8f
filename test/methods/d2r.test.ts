// The D2R loss against its PyTorch transcription (value and parameter
// gradients of both models; reductions, weights, modes, frozen guidance), the
// generation options, and one full training step of both models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, methods, attacks, optim } from '../../src/index.js';
import type { D2rWeights } from '../../src/methods/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture } from '../attacks/fixtures.js';
import { assertLossAndGradients, clearGradients } from './oracleChecks.js';

const EPS = 0.1;
const STEP = 0.02;
const budget = { epsilon: EPS, stepSize: STEP, steps: 3 };

function fixedAdversarial(x: ReturnType<typeof fixture>['x']): ReturnType<typeof fixture>['x'] {
  return attacks.project(x.add(torch.randn(x.shape).mul(0.08)), x, EPS, 'linf');
}

const weightCases: [string, D2rWeights][] = [
  ['reference weights and reduction', {}],
  ['batchmean reduction', { reduction: 'batchmean' }],
  ['other weights', { mse: 0.5, clean: 0, adv: 7 }],
];

for (const [what, weights] of weightCases) {
  test(`d2rLoss (${what}): value and gradients of both models equal PyTorch's (train mode)`, () => {
    const { target, guidance, x, y, inputs } = fixture();
    const xAdv = fixedAdversarial(x);
    const ref = pytorch('methods.py', 'd2r', { ...inputs, xadv: xAdv, mode: 'train', weights: { ...weights } });
    target.train();
    guidance.train();
    const loss = methods.d2rLoss(target, guidance, x, xAdv, y, weights);
    loss.backward();
    assertLossAndGradients(loss, { 'T.': target, 'G.': guidance }, ref, `d2r ${what}`);
  });
}

test('d2rLoss runs the models in the modes the caller set (eval here)', () => {
  const { target, guidance, x, y, inputs } = fixture();
  const xAdv = fixedAdversarial(x);
  const ref = pytorch('methods.py', 'd2r', { ...inputs, xadv: xAdv, mode: 'eval' });
  target.eval();
  guidance.eval();
  assertClose(methods.d2rLoss(target, guidance, x, xAdv, y), ref['loss']!, { atol: 1e-5, rtol: 1e-4, what: 'eval-mode loss' });
  assert.deepEqual([target.training, guidance.training], [false, false]);
});

test('D2R with a frozen guidance: guidance logits from eval mode without gradients, target gradients equal PyTorch', () => {
  const { target, guidance, x, y, inputs } = fixture();
  const xAdv = fixedAdversarial(x);
  const ref = pytorch('methods.py', 'd2r', { ...inputs, xadv: xAdv, mode: 'frozen' });
  const method = new methods.D2r({ ...budget, guidance: 'frozen' });
  target.train();
  guidance.train(); // even a guidance left in train mode is run frozen
  const out = method.lossOn({ target, guidance }, x, xAdv, y);
  out.loss.backward();
  assertLossAndGradients(out.loss, { 'T.': target }, ref, 'd2r frozen');
  for (const p of guidance.parameters()) assert.equal(p.grad, null, 'a gradient reached the frozen guidance');
  assert.equal(guidance.training, true);
  assert.deepEqual(Object.keys(out.terms!).sort(), ['adv', 'ce', 'clean', 'mse']);
});

test("D2R generation: 'cag' is CAG, 'target' is the target-only KL ascent of PyTorch's transcription", () => {
  const { target, guidance, x, y, inputs } = fixture();
  const init = x.add(torch.randn(x.shape).mul(0.001));
  const ref = pytorch('methods.py', 'generation', { ...inputs, init, generation: 'kl', eps: EPS, step: STEP, steps: 3 });
  const models = { target, guidance };
  const viaCag = new methods.D2r(budget).generate(models, x, y, init);
  assert.deepEqual(viaCag.toNumbers(), methods.cag(target, guidance, x, { ...budget, init }).toNumbers());
  assertClose(new methods.D2r({ ...budget, generation: 'target' }).generate(models, x, y, init), ref['adv']!, {
    atol: 2e-6,
    rtol: 0,
    what: 'target-only generation',
  });
  assert.throws(() => new methods.D2r(budget).batchLoss({ target }, x, y), /d2r needs a guidance model/);
});

test('one D2R training step (CAG, loss, one SGD step over both models) equals PyTorch and changes both models', () => {
  const { target, guidance, x, y, inputs } = fixture();
  const init = x.add(torch.randn(x.shape).mul(0.001));
  const ref = pytorch('methods.py', 'd2r_step', {
    ...inputs,
    init,
    eps: EPS,
    step: STEP,
    steps: 3,
    sgd: { lr: 0.1, momentum: 0.9, weight_decay: 2e-4 },
  });
  const before = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.clone()])); // state-dict tensors share the weights' storage
  const method = new methods.D2r(budget);
  const opt = new optim.SGD([...target.parameters(), ...guidance.parameters()], { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
  target.train();
  guidance.train();
  clearGradients(target, guidance);
  const xAdv = method.generate({ target, guidance }, x, y, init);
  assertClose(xAdv, ref['xadv']!, { atol: 2e-6, rtol: 0, what: 'CAG in the step' });
  method.lossOn({ target, guidance }, x, xAdv, y).loss.backward();
  opt.step();
  for (const [prefix, m] of [
    ['T.', target],
    ['G.', guidance],
  ] as const) {
    let changed = false;
    for (const [name, v] of Object.entries(m.stateDict())) {
      assertClose(v, ref[prefix + name]!, { atol: 1e-5, rtol: 1e-4, what: `after the step ${prefix}${name}` });
      changed ||=
        v
          .sub(before[prefix + name]!)
          .abs()
          .amax()
          .item() > 0;
    }
    assert.ok(changed, `${prefix} did not change`);
  }
});
