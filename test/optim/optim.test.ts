import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

// Runs `steps` updates with fixed gradients here and in torch.optim, then compares the parameters.
function compare(name: string, make: (p: Tensor[]) => optim.Optimizer, pythonCtor: string, steps = 4): void {
  torch.manualSeed(1);
  const w = torch.randn([3, 4]).requiresGrad_();
  const b = torch.randn([4]).requiresGrad_();
  const grads = Array.from({ length: steps }, () => [torch.randn([3, 4]), torch.randn([4])]);
  const ref = pytorch(
    `
w = inp['w'].clone().requires_grad_(); b = inp['b'].clone().requires_grad_()
opt = ${pythonCtor}
for k in range(${steps}):
    opt.zero_grad()
    w.grad = inp['gw%d' % k].clone(); b.grad = inp['gb%d' % k].clone()
    opt.step()
out['w'] = w; out['b'] = b
`,
    { w, b, ...Object.fromEntries(grads.flatMap(([gw, gb], k) => [[`gw${k}`, gw!], [`gb${k}`, gb!]])) },
  );
  const opt = make([w, b]);
  for (const [gw, gb] of grads) {
    opt.zeroGrad();
    w.grad = gw!;
    b.grad = gb!;
    opt.step();
  }
  assertClose(w, ref['w']!, { atol: 1e-6, rtol: 1e-5, what: `${name} w` });
  assertClose(b, ref['b']!, { atol: 1e-6, rtol: 1e-5, what: `${name} b` });
}

const cases: [string, (p: Tensor[]) => optim.Optimizer, string][] = [
  ['sgd', (p) => new optim.SGD(p, { lr: 0.1 }), 'torch.optim.SGD([w, b], lr=0.1)'],
  ['sgd momentum wd', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 }), 'torch.optim.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=2e-4)'],
  ['sgd dampening', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, dampening: 0.3 }), 'torch.optim.SGD([w, b], lr=0.05, momentum=0.8, dampening=0.3)'],
  ['sgd nesterov', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), 'torch.optim.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)'],
  ['adam', (p) => new optim.Adam(p, { lr: 0.01 }), 'torch.optim.Adam([w, b], lr=0.01)'],
  ['adam wd amsgrad', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true, betas: [0.8, 0.99] }), 'torch.optim.Adam([w, b], lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.8, 0.99))'],
  ['adamw', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.05 }), 'torch.optim.AdamW([w, b], lr=0.01, weight_decay=0.05)'],
  ['adamw amsgrad', (p) => new optim.AdamW(p, { lr: 0.02, amsgrad: true }), 'torch.optim.AdamW([w, b], lr=0.02, amsgrad=True)'],
];
for (const [name, make, py] of cases) test(`${name} matches torch.optim`, () => compare(name, make, py));

test('param groups keep their own learning rate', () => {
  compare(
    'groups',
    (p) => new optim.SGD([{ params: [p[0]!] }, { params: [p[1]!], lr: 0.5 }], { lr: 0.1, momentum: 0.9 }),
    "torch.optim.SGD([{'params': [w]}, {'params': [b], 'lr': 0.5}], lr=0.1, momentum=0.9)",
  );
});

test('state dict round trip continues identically', () => {
  torch.manualSeed(2);
  const make = (): Tensor[] => [torch.randn([5]).requiresGrad_()];
  const a = make();
  const b = [a[0]!.detach().clone().requiresGrad_()];
  const grads = Array.from({ length: 6 }, () => torch.randn([5]));
  const optA = new optim.Adam(a, { lr: 0.1, amsgrad: true });
  const optB = new optim.Adam(b, { lr: 0.1, amsgrad: true });
  grads.forEach((g, k) => {
    a[0]!.grad = g;
    optA.step();
    if (k < 3) {
      b[0]!.grad = g;
      optB.step();
    }
  });
  const saved = optB.stateDict();
  const fresh = new optim.Adam(b, { lr: 0.1, amsgrad: true });
  // The meta part goes through JSON, as in a checkpoint.
  fresh.loadStateDict({ meta: JSON.parse(JSON.stringify(saved.meta)), tensors: saved.tensors });
  for (const g of grads.slice(3)) {
    b[0]!.grad = g;
    fresh.step();
  }
  assert.deepEqual(b[0]!.toNumbers(), a[0]!.toNumbers());
  assert.throws(() => new optim.SGD(b, { lr: 1 }).loadStateDict(saved), /optimizer state is for Adam, this is SGD/);
});

test('schedules match torch.optim.lr_scheduler', () => {
  const ref = pytorch(`
p = torch.zeros(1, requires_grad=True)
def run(make):
    opt = torch.optim.SGD([p], lr=0.1); s = make(opt); lrs = []
    for e in range(12):
        lrs.append(opt.param_groups[0]['lr']); opt.step(); s.step()
    return torch.tensor(lrs, dtype=torch.float64)
out['multi'] = run(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[4, 9], gamma=0.1))
out['cos'] = run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=0.001))
`);
  const epochs = Array.from({ length: 12 }, (_, i) => i + 1);
  const multi = optim.multiStep(0.1, [4, 9], 0.1);
  const cos = optim.cosineAnnealing(0.1, 12, 0.001);
  epochs.forEach((e, i) => {
    assert.ok(Math.abs(multi(e) - ref['multi']!.data[i]!) < 1e-12, `multistep epoch ${e}`);
    assert.ok(Math.abs(cos(e) - ref['cos']!.data[i]!) < 1e-9, `cosine epoch ${e}`);
  });
  const piece = optim.piecewiseByEpoch([[1, 0.02], [75, 0.1], [90, 0.01], [100, 0.001]]);
  assert.deepEqual([1, 2, 75, 76, 90, 91, 100].map(piece), [0.02, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  const warm = optim.withLinearWarmup(() => 1, 4, 1);
  assert.deepEqual([1, 2, 4, 5].map(warm), [0.25, 0.5, 1, 1]);
});
