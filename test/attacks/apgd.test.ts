// APGD against a PyTorch transcription of the reference algorithm from a fixed
// start (L-inf and L2, CE and targeted DLR), the checkpoint schedule, the DLR
// losses, and the contract: threat model, modes, seeding, few classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, attacks, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture, PY_FIXTURE } from './fixtures.js';

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
  const ref = pytorch(`
z = inp['z']; y = inp['y']; t = inp['t']
s, order = z.sort(dim=1)
u = torch.arange(z.shape[0])
top_is_y = (order[:, -1] == y).float()
out['dlr'] = -(z[u, y] - s[:, -2] * top_is_y - s[:, -1] * (1 - top_is_y)) / (s[:, -1] - s[:, -3] + 1e-12)
out['dlrt'] = -(z[u, y] - z[u, t]) / (s[:, -1] - 0.5 * (s[:, -3] + s[:, -4]) + 1e-12)
`, { z, y, t });
  assertClose(attacks.dlrLoss(z, y), ref['dlr']!, { atol: 1e-6, rtol: 1e-5, what: 'dlr' });
  assertClose(attacks.targetedDlrLoss(z, y, t), ref['dlrt']!, { atol: 1e-6, rtol: 1e-5, what: 'targeted dlr' });
  assert.throws(() => attacks.dlrLoss(z.narrow(1, 0, 2), y.clamp(0, 1)), /DLR loss needs at least 3 classes, the model has 2/);
  assert.throws(() => attacks.targetedDlrLoss(z.narrow(1, 0, 3), y.clamp(0, 2), t.clamp(0, 2)), /targeted DLR loss needs at least 4 classes/);
});

// A transcription of the reference's single APGD run (momentum, checkpoints,
// oscillation count with its wrap-around read, restart from the best point).
const PY_APGD = `
def apgd_run(loss_fn, start, eps, norm, n_iter, rho=0.75):
    def unit(t, kind):
        size = t.abs().flatten(1).max(1)[0] if kind == 'linf' else t.flatten(1).norm(dim=1)
        return t / (size.view(-1, 1, 1, 1) + 1e-12)
    def proj(a):
        if norm == 'linf':
            return torch.clamp(torch.min(torch.max(a, x - eps), x + eps), 0, 1)
        d = a - x
        return torch.clamp(x + unit(d, 'l2') * torch.clamp(d.flatten(1).norm(dim=1), max=eps).view(-1, 1, 1, 1), 0, 1)
    def at(a):
        a = a.clone().requires_grad_()
        z = T(a)
        l = loss_fn(z)
        g, = torch.autograd.grad(l.sum(), [a])
        return z.detach(), l.detach(), g.detach()
    n = x.shape[0]
    adv = start.clamp(0, 1)
    z, l, g = at(adv)
    best, g_best, l_best, fooled_at = adv.clone(), g.clone(), l.clone(), adv.clone()
    robust = z.argmax(1) == y
    step = 2 * eps * torch.ones(n, 1, 1, 1)
    old = adv.clone()
    losses = torch.zeros(n_iter, n)
    k = max(int(0.22 * n_iter), 1); k_min = max(int(0.06 * n_iter), 1); k_dec = max(int(0.03 * n_iter), 1)
    since = 0
    l_check = l_best.clone(); reduced = torch.ones(n)
    for i in range(n_iter):
        move = adv - old
        old = adv.clone()
        a = 0.75 if i > 0 else 1.0
        d = torch.sign(g) if norm == 'linf' else unit(g, 'l2')
        s1 = proj(adv + step * d)
        adv = proj(adv + (s1 - adv) * a + move * (1 - a))
        z, l, g = at(adv)
        wrong = z.argmax(1) != y
        robust = robust & ~wrong
        fooled_at[wrong] = adv[wrong]
        losses[i] = l
        up = l > l_best
        best[up] = adv[up]; g_best[up] = g[up]; l_best[up] = l[up]
        since += 1
        if since == k:
            rises = torch.zeros(n)
            for c in range(k):
                rises += (losses[i - c] > losses[i - c - 1]).float()
            red = (rises <= k * rho).float()
            red = torch.max(red, (1 - reduced) * (l_check >= l_best).float())
            reduced = red.clone(); l_check = l_best.clone()
            m = red > 0
            step[m] /= 2
            adv[m] = best[m]; g[m] = g_best[m]
            k = max(k - k_dec, k_min)
            since = 0
    return fooled_at, ~robust
`;

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
    const ref = pytorch(PY_FIXTURE + PY_APGD + `
T.eval()
t = inp['tgt']
def loss_fn(z):
    if '${c.loss}' == 'ce':
        return F.cross_entropy(z, y, reduction='none')
    s = z.sort(dim=1)[0]
    u = torch.arange(z.shape[0])
    return -(z[u, y] - z[u, t]) / (s[:, -1] - 0.5 * (s[:, -3] + s[:, -4]) + 1e-12)
adv, fooled = apgd_run(loss_fn, inp['start'], ${c.epsilon}, '${c.norm}', ${c.steps})
out['adv'] = adv; out['fooled'] = fooled
`, { ...inputs, start, tgt });
    const loss = (z: Tensor): Tensor => (c.loss === 'ce' ? torch.crossEntropy(z, y, { reduction: 'none' }) : attacks.targetedDlrLoss(z, y, tgt));
    const run = attacks.apgdRun(target, x, y, start, loss, { norm: c.norm, epsilon: c.epsilon, steps: c.steps, rho: 0.75 });
    assertClose(run.adv, ref['adv']!, { atol: 1e-5, rtol: 0, what: `apgd ${c.norm} ${c.loss}` });
    assert.deepEqual(Array.from(run.fooled.toUint8Array()), ref['fooled']!.data.map((v) => (v ? 1 : 0)));
  });
}

test('APGD-CE and APGD-T work on non-square colour inputs, stay in the threat model and are reproducible', () => {
  torch.manualSeed(5);
  const model = new nn.Sequential({ flat: new nn.Flatten(), fc: new nn.Linear(3 * 5 * 9, 6) });
  const x = torch.rand([5, 3, 5, 9]);
  const y = torch.noGrad(() => model.forward(x).argmax(1));
  for (const norm of ['linf', 'l2'] as const) {
    const epsilon = norm === 'linf' ? 0.1 : 0.8;
    const o = { norm, epsilon, steps: 20, seed: 2 };
    for (const adv of [attacks.apgd(model, x, y, o), attacks.apgdTargeted(model, x, y, { ...o, targets: 9 })]) {
      assert.deepEqual(adv.shape, [5, 3, 5, 9]);
      const size = norm === 'linf' ? adv.sub(x).abs().amax().item() : attacks.perSampleL2(adv.sub(x)).amax().item();
      assert.ok(size <= epsilon * (1 + 1e-6), `${norm} perturbation ${size}`);
      assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    }
    assert.deepEqual(attacks.apgd(model, x, y, o).toNumbers(), attacks.apgd(model, x, y, o).toNumbers());
  }
  assert.throws(() => attacks.apgd(model, x, y, { norm: 'linf', epsilon: 0.1, steps: 0 }), /apgd: steps must be a positive integer, got 0/);
  assert.throws(() => attacks.apgd(model, x, y, { norm: 'l1' as 'l2', epsilon: 0.1 }), /norm must be 'linf' or 'l2', got 'l1'/);
  // Points the model already gets wrong come back unchanged.
  const wrongLabels = y.add(1).remainder(6);
  assert.deepEqual(attacks.apgd(model, x, wrongLabels, { norm: 'linf', epsilon: 0.1, steps: 5 }).toNumbers(), x.toNumbers());
});
