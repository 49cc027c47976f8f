// Each method's adversarial generation, loss and gradients against a PyTorch
// transcription of docs/method-d2r.md, computed in the test run. Both sides use
// the same libtorch generator, so the same seed gives the same random starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, nn, methods, optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import type { TrainingMethod } from '../../src/train/method.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

const EPS = 0.1;
const STEP = 0.02;
const STEPS = 3;

function tinyNet(): Module {
  return new nn.Sequential({
    conv: new nn.Conv2d(1, 4, 3),
    bn: new nn.BatchNorm2d(4),
    relu: new nn.ReLU(),
    flat: new nn.Flatten(),
    fc: new nn.Linear(4 * 6 * 6, 10),
  } as unknown as Record<string, Module>);
}

const PY_SETUP = `
from collections import OrderedDict
import torch.nn as nn
import torch.nn.functional as F
def net(prefix):
    m = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 4, 3), bn=nn.BatchNorm2d(4), relu=nn.ReLU(), flat=nn.Flatten(), fc=nn.Linear(144, 10)))
    m.load_state_dict({k[len(prefix):]: v for k, v in inp.items() if k.startswith(prefix)})
    return m
T = net('T.'); G = net('G.')
x = inp['x']; y = inp['y']
EPS, STEP, STEPS = ${EPS}, ${STEP}, ${STEPS}
def project(a):
    return torch.clamp(torch.min(torch.max(a, x - EPS), x + EPS), 0.0, 1.0)
def kl_ascent(model, ref_model, start):
    # sum_{i,c} p_ref (log(p_ref + 1e-5) - log p_model(x'))
    model.eval(); ref_model.eval()
    with torch.no_grad():
        p_ref = F.softmax(ref_model(x), dim=1)
    a = start.detach()
    for _ in range(STEPS):
        a.requires_grad_()
        loss = (p_ref * (torch.log(p_ref + 1e-5) - F.log_softmax(model(a), dim=1))).sum()
        g, = torch.autograd.grad(loss, [a])
        a = project(a.detach() + STEP * torch.sign(g.detach()))
    return a.detach()
def pgd_ce(model):
    model.eval()
    a = torch.clamp(x + (torch.rand_like(x) * 2 * EPS - EPS), 0.0, 1.0)
    for _ in range(STEPS):
        a.requires_grad_()
        g, = torch.autograd.grad(F.cross_entropy(model(a), y, reduction='sum'), [a])
        a = project(a.detach() + STEP * torch.sign(g.detach()))
    return a.detach()
def k(a, b):
    return (b * (torch.log(b + 1e-5) - a)).mean()
def finish(loss, xadv, models):
    for m in models.values():
        for n, p in m.named_parameters():
            p.grad = None
    loss.backward()
    out['loss'] = loss; out['xadv'] = xadv
    for tag, m in models.items():
        for n, p in m.named_parameters():
            out[tag + n] = p.grad
`;

const PY_METHODS: Record<string, string> = {
  d2r: `
torch.manual_seed(11)
xadv = kl_ascent(T, G, x + 0.001 * torch.randn_like(x))
T.train(); G.train()
zTa, zTc, zGc = T(xadv), T(x), G(x)
lpT, lpG, pT, pG = F.log_softmax(zTc, 1), F.log_softmax(zGc, 1), F.softmax(zTc, 1), F.softmax(zGc, 1)
loss = F.cross_entropy(zGc, y) + F.mse_loss(zTa, zGc) + 20 * torch.abs(k(lpG, pT) - k(lpT, pG)) + 30 * k(lpG, F.softmax(zTa, 1))
finish(loss, xadv, {'T.': T, 'G.': G})`,
  trades: `
torch.manual_seed(11)
xadv = kl_ascent(T, T, x + 0.001 * torch.randn_like(x))
T.train()
zc = T(x)
loss = F.cross_entropy(zc, y) + 6.0 * F.kl_div(F.log_softmax(T(xadv), 1), F.softmax(zc, 1), reduction='batchmean')
finish(loss, xadv, {'T.': T})`,
  lbgat: `
torch.manual_seed(11)
xadv = kl_ascent(T, T, x + 0.001 * torch.randn_like(x))
T.train(); G.train()
zTa = T(xadv); zGc = G(x); zTc = T(x)
loss = F.cross_entropy(zGc, y) + F.mse_loss(zTa, zGc) + 6.0 * F.kl_div(F.log_softmax(zTa, 1), F.softmax(zTc, 1), reduction='batchmean')
finish(loss, xadv, {'T.': T, 'G.': G})`,
  'pgd-at': `
torch.manual_seed(11)
xadv = pgd_ce(T)
T.train()
loss = F.cross_entropy(T(xadv), y)
finish(loss, xadv, {'T.': T})`,
  mart: `
torch.manual_seed(11)
xadv = pgd_ce(T)
T.train()
zc = T(x); za = T(xadv)
adv_probs = F.softmax(za, 1)
tmp1 = torch.argsort(adv_probs, dim=1)[:, -2:]
new_y = torch.where(tmp1[:, -1] == y, tmp1[:, -2], tmp1[:, -1])
loss_adv = F.cross_entropy(za, y) + F.nll_loss(torch.log(1.0001 - adv_probs + 1e-12), new_y)
nat_probs = F.softmax(zc, 1)
true_probs = torch.gather(nat_probs, 1, y.unsqueeze(1)).squeeze()
kl = nn.KLDivLoss(reduction='none')
loss_robust = (1.0 / x.shape[0]) * torch.sum(torch.sum(kl(torch.log(adv_probs + 1e-12), nat_probs), dim=1) * (1.0000001 - true_probs))
loss = loss_adv + 6.0 * loss_robust
finish(loss, xadv, {'T.': T})`,
};

function setup(): { target: Module; guidance: Module; x: Tensor; y: Tensor; inputs: Record<string, Tensor> } {
  torch.manualSeed(7);
  const target = tinyNet();
  const guidance = tinyNet();
  const x = torch.rand([6, 1, 8, 8]);
  const y = torch.tensor(new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n]));
  const inputs: Record<string, Tensor> = { x, y };
  for (const [prefix, m] of [['T.', target], ['G.', guidance]] as const) for (const [k, v] of Object.entries(m.stateDict())) inputs[prefix + k] = v;
  return { target, guidance, x, y, inputs };
}

const budget = { epsilon: EPS, stepSize: STEP, steps: STEPS, norm: 'linf' as const };
const made: Record<string, () => TrainingMethod> = {
  d2r: () => new methods.D2r(budget),
  trades: () => new methods.Trades({ ...budget, beta: 6 }),
  lbgat: () => new methods.Lbgat({ ...budget, beta: 6 }),
  'pgd-at': () => new methods.PgdAdversarialTraining(budget),
  mart: () => new methods.Mart({ ...budget, beta: 6 }),
};

for (const [name, script] of Object.entries(PY_METHODS)) {
  test(`${name}: generation, loss and gradients of every trained model equal PyTorch's`, () => {
    const { target, guidance, x, y, inputs } = setup();
    const ref = pytorch(PY_SETUP + script, inputs);
    const method = made[name]!();
    const models = method.needsGuidance ? { target, guidance } : { target };
    target.train();
    guidance.train();
    torch.manualSeed(11);
    const out = method.batchLoss(models, x, y);
    out.loss.backward();
    assertClose(out.loss, ref['loss']!, { atol: 1e-5, rtol: 1e-4, what: `${name} loss` });
    for (const [prefix, m] of Object.entries(models).map(([k, m]) => [k === 'target' ? 'T.' : 'G.', m] as const)) {
      for (const [pname, p] of m.namedParameters()) {
        assertClose(p.grad!, ref[prefix + pname]!, { atol: 2e-5, rtol: 1e-3, what: `${name} grad ${prefix}${pname}` });
      }
    }
  });
}

test('CAG with a fixed start equals the transcription, stays in the eps-ball and [0,1], restores modes', () => {
  const { target, guidance, x, inputs } = setup();
  const init = x.add(torch.randn(x.shape).mul(0.05));
  const ref = pytorch(PY_SETUP + `out['xadv'] = kl_ascent(T, G, inp['init'])`, { ...inputs, init });
  target.train();
  guidance.eval();
  const xAdv = methods.cag(target, guidance, x, { ...budget, init });
  assertClose(xAdv, ref['xadv']!, { atol: 1e-6, rtol: 0, what: 'cag x' });
  assert.equal(target.training, true);
  assert.equal(guidance.training, false);
  assert.ok(xAdv.sub(x).abs().amax().item() <= EPS + 1e-7);
  assert.ok(xAdv.amin().item() >= 0 && xAdv.amax().item() <= 1);
  assert.equal(xAdv.requiresGrad, false);
});

test('CAG L2 stays inside the L2 ball and moves the target', () => {
  const { target, guidance, x } = setup();
  const xAdv = methods.cag(target, guidance, x, { epsilon: 0.5, stepSize: 0.2, steps: 5, norm: 'l2' });
  const norms = xAdv.sub(x).flatten(1).norm(2, 1).toNumbers();
  for (const n of norms) assert.ok(n <= 0.5 + 1e-5, `L2 norm ${n}`);
  assert.ok(Math.max(...norms) > 0.1, 'the L2 attack moved');
});

test('d2rLoss uses the weights and the modes the caller set', () => {
  const { target, guidance, x, y } = setup();
  target.eval();
  guidance.eval();
  const xAdv = x.add(0.05).clamp(0, 1);
  const full = methods.d2rLoss(target, guidance, x, xAdv, y).item();
  const ceOnly = methods.d2rLoss(target, guidance, x, xAdv, y, { mse: 0, clean: 0, adv: 0 }).item();
  const ce = torch.crossEntropy(guidance.forward(x), y).item();
  assert.ok(Math.abs(ceOnly - ce) < 1e-6);
  assert.ok(full > ceOnly);
  assert.equal(target.training, false);
});

test('one D2R training step changes both models', () => {
  const { target, guidance, x, y } = setup();
  const before = [target, guidance].map((m) => m.parameters().map((p) => p.clone()));
  const opt = new optim.SGD([...target.parameters(), ...guidance.parameters()], { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
  target.train();
  guidance.train();
  opt.zeroGrad();
  new methods.D2r(budget).batchLoss({ target, guidance }, x, y).loss.backward();
  opt.step();
  [target, guidance].forEach((m, i) => {
    const changed = m.parameters().some((p, j) => p.sub(before[i]![j]!).abs().amax().item() > 0);
    assert.ok(changed, `${i === 0 ? 'target' : 'guidance'} did not change`);
  });
});
