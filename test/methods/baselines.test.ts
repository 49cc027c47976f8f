// Each baseline against a PyTorch transcription of docs/method-d2r.md: its
// adversarial generation from a fixed start, and its loss and the parameter
// gradients of every trained model on a fixed x'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, methods, attacks } from '../../src/index.js';
import type { AdversarialTraining } from '../../src/methods/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, PY_FIXTURE } from '../attacks/fixtures.js';
import { assertLossAndGradients } from './oracleChecks.js';

const EPS = 0.1;
const STEP = 0.02;
const budget = { epsilon: EPS, stepSize: STEP, steps: 3 };

const PY_GENERATION = {
  kl: `
T.eval()
with torch.no_grad():
    pT = F.softmax(T(x), dim=1)
out['adv'] = ascend(lambda a: kl_to(pT, T(a)), inp['init'], ${EPS}, ${STEP}, 3, 'linf')`,
  ce: `
T.eval()
out['adv'] = ascend(lambda a: F.cross_entropy(T(a), y, reduction='sum'), inp['init'], ${EPS}, ${STEP}, 3, 'linf')`,
};

interface Baseline {
  make: () => AdversarialTraining;
  generation: keyof typeof PY_GENERATION;
  /** Python computing `loss` from T (and G) in train mode and x' = xa. */
  loss: string;
}

const BASELINES: Record<string, Baseline> = {
  'pgd-at': {
    make: () => new methods.PgdAdversarialTraining(budget),
    generation: 'ce',
    loss: `loss = F.cross_entropy(T(xa), y)`,
  },
  trades: {
    make: () => new methods.Trades(budget),
    generation: 'kl',
    loss: `
zc = T(x)
loss = F.cross_entropy(zc, y) + 6.0 * F.kl_div(F.log_softmax(T(xa), 1), F.softmax(zc, 1), reduction='batchmean')`,
  },
  mart: {
    make: () => new methods.Mart(budget),
    generation: 'ce',
    loss: `
zc = T(x); za = T(xa)
pa = F.softmax(za, 1)
top2 = torch.argsort(pa, dim=1)[:, -2:]
best_wrong = torch.where(top2[:, -1] == y, top2[:, -2], top2[:, -1])
loss_adv = F.cross_entropy(za, y) + F.nll_loss(torch.log(1.0001 - pa + 1e-12), best_wrong)
pc = F.softmax(zc, 1)
p_true = torch.gather(pc, 1, y.unsqueeze(1)).squeeze()
kl = torch.sum(F.kl_div(torch.log(pa + 1e-12), pc, reduction='none'), dim=1)
loss = loss_adv + 6.0 * (1.0 / x.shape[0]) * torch.sum(kl * (1.0000001 - p_true))`,
  },
  lbgat: {
    make: () => new methods.Lbgat(budget),
    generation: 'kl',
    loss: `
zTa = T(xa); zGc = G(x); zTc = T(x)
loss = F.cross_entropy(zGc, y) + F.mse_loss(zTa, zGc) + 6.0 * F.kl_div(F.log_softmax(zTa, 1), F.softmax(zTc, 1), reduction='batchmean')`,
  },
  lbgat0: {
    make: () => new methods.Lbgat({ ...budget, beta: 0 }),
    generation: 'kl',
    loss: `
zTa = T(xa); zGc = G(x)
loss = F.cross_entropy(zGc, y) + F.mse_loss(zTa, zGc)`,
  },
};

for (const [name, b] of Object.entries(BASELINES)) {
  test(`${name}: generation from a fixed start, loss and gradients equal PyTorch's`, () => {
    const { target, guidance, x, y, inputs } = fixture();
    const init = name === 'pgd-at' || name === 'mart' ? attacks.randomStart(x, EPS, 'linf', 'ball') : x.add(torch.randn(x.shape).mul(0.001));
    const xa = attacks.project(x.add(torch.randn(x.shape).mul(0.08)), x, EPS, 'linf');
    const method = b.make();
    const twoModels = method.needsGuidance;
    const ref = pytorch(PY_FIXTURE + PY_GENERATION[b.generation] + `
T.train(); G.train()
xa = inp['xa']
${b.loss}
grads(loss, {'T.': T${twoModels ? ", 'G.': G" : ''}})`, { ...inputs, init, xa });
    const models = twoModels ? { target, guidance } : { target };
    target.train();
    guidance.train();
    const adv = method.generate(models, x, y, init);
    assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: `${name} generation` });
    assert.deepEqual([target.training, guidance.training], [true, true]);
    const out = method.lossOn(models, x, xa, y);
    out.loss.backward();
    assertLossAndGradients(out.loss, twoModels ? { 'T.': target, 'G.': guidance } : { 'T.': target }, ref, name);
    assert.deepEqual(out.targetLogits?.shape, [6, 10], 'the target logits for the training accuracy');
  });
}

test('batchLoss is the loss on the batch the method generates (same random stream)', () => {
  for (const [name, b] of Object.entries(BASELINES)) {
    const { target, guidance, x, y } = fixture();
    const method = b.make();
    const models = { target, guidance };
    target.eval(); // eval mode: the two runs below see the same BatchNorm statistics
    guidance.eval();
    torch.manualSeed(21);
    const whole = method.batchLoss(models, x, y).loss.item();
    torch.manualSeed(21);
    const parts = method.lossOn(models, x, method.generate(models, x, y), y).loss.item();
    assert.equal(whole, parts, name);
  }
});

test('standard training is CE on clean data', () => {
  const { target, x, y, inputs } = fixture();
  const ref = pytorch(PY_FIXTURE + `T.train()\ngrads(F.cross_entropy(T(x), y), {'T.': T})`, inputs);
  target.train();
  const out = new methods.StandardTraining().batchLoss({ target }, x, y);
  out.loss.backward();
  assertLossAndGradients(out.loss, { 'T.': target }, ref, 'standard');
});
