// Ops and their gradients against PyTorch, table-driven: each case gives our
// expression and PyTorch's over the same inputs a, b (float32, requiring grad),
// i (int64 indices) and m (bool mask). Forward values and d(sum(out * w))/da are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';

type Inputs = { a: Tensor; b: Tensor; i: Tensor; m: Tensor; img: Tensor; k: Tensor };
const cases: [string, (t: Inputs) => Tensor, string][] = [
  ['add broadcast', (t) => t.a.add(t.b.select(0, 0)), 'a + b[0]'],
  ['scalar ops', (t) => t.a.mul(2).sub(1).div(3).pow(2), '((a * 2 - 1) / 3) ** 2'],
  ['maximum', (t) => t.a.maximum(t.b), 'torch.maximum(a, b)'],
  ['where', (t) => torch.where(t.m, t.a, 0.5), 'torch.where(m, a, torch.tensor(0.5))'],
  ['clamp scalar', (t) => t.a.clamp(-0.5, 0.5), 'a.clamp(-0.5, 0.5)'],
  ['clamp tensor', (t) => t.a.clamp(t.b.sub(0.1), t.b.add(0.1)), 'torch.clamp(a, b - 0.1, b + 0.1)'],
  ['abs sign', (t) => t.a.abs().add(t.a.sign()), 'a.abs() + a.sign()'],
  ['exp log sqrt', (t) => t.a.exp().add(t.a.abs().add(1).log()).add(t.a.abs().add(1).sqrt()), 'a.exp() + (a.abs() + 1).log() + (a.abs() + 1).sqrt()'],
  ['activations', (t) => t.a.relu().add(t.a.sigmoid()).add(t.a.tanh()), 'a.relu() + a.sigmoid() + a.tanh()'],
  ['softmax', (t) => t.a.softmax(1), 'a.softmax(1)'],
  ['logSoftmax', (t) => t.a.logSoftmax(0), 'a.log_softmax(0)'],
  ['sum dims keepdim', (t) => t.a.sum(1, true), 'a.sum(1, keepdim=True)'],
  ['mean', (t) => t.a.mean(), 'a.mean()'],
  ['amax', (t) => t.a.amax(0), 'a.amax(0)'],
  ['max dim', (t) => t.a.max(1).values, 'a.max(1).values'],
  ['min dim', (t) => t.a.min(0, true).values, 'a.min(0, keepdim=True).values'],
  ['logsumexp', (t) => t.a.logsumexp(1), 'a.logsumexp(1)'],
  ['norm 1', (t) => t.a.norm(1, 1), 'torch.linalg.vector_norm(a, 1, dim=1)'],
  ['norm 2', (t) => t.a.norm(2, [0, 1]), 'torch.linalg.vector_norm(a, 2, dim=(0, 1))'],
  ['norm inf keepdim', (t) => t.a.norm(Infinity, 1, true), 'torch.linalg.vector_norm(a, float("inf"), dim=1, keepdim=True)'],
  ['sort', (t) => t.a.sort(1, true).values, 'a.sort(1, descending=True).values'],
  ['topk', (t) => t.a.topk(2, 1).values, 'a.topk(2, 1).values'],
  ['gather', (t) => t.a.gather(1, t.i), 'a.gather(1, i)'],
  ['scatter', (t) => t.a.scatter(1, t.i, 0), 'a.scatter(1, i, 0.0)'],
  ['indexSelect', (t) => t.a.indexSelect(0, t.i.select(1, 0)), 'a.index_select(0, i[:, 0])'],
  ['maskedSelect', (t) => t.a.maskedSelect(t.m), 'a.masked_select(m)'],
  ['cat stack', (t) => torch.cat([t.a, torch.stack([t.a, t.b], 0).sum(0)], 1), 'torch.cat([a, torch.stack([a, b], 0).sum(0)], 1)'],
  ['split chunk', (t) => t.a.split(2, 1)[1]!.add(t.a.chunk(2, 0)[0]!.sum()), 'a.split(2, 1)[1] + a.chunk(2, 0)[0].sum()'],
  ['reshape permute transpose', (t) => t.a.reshape([2, 2, 4]).permute([2, 0, 1]).transpose(0, 1), 'a.reshape(2, 2, 4).permute(2, 0, 1).transpose(0, 1)'],
  ['unsqueeze expand repeat', (t) => t.a.unsqueeze(0).expand([2, 4, 4]).repeat([1, 1, 2]), 'a.unsqueeze(0).expand(2, 4, 4).repeat(1, 1, 2)'],
  ['narrow slice select flip', (t) => t.a.narrow(0, 1, 2).slice(1, 0, 4, 2).flip([0]).add(t.a.select(1, 3).sum()), 'a[1:3][:, 0:4:2].flip(0) + a[:, 3].sum()'],
  ['pad', (t) => torch.pad(t.a, [1, 2, 0, 1], 'constant', 0.5), 'F.pad(a, [1, 2, 0, 1], value=0.5)'],
  ['matmul', (t) => t.a.matmul(t.b.transpose(0, 1)), 'a @ b.t()'],
  ['conv2d', (t) => torch.conv2d(t.img, t.k, null, { stride: 2, padding: 1 }), 'F.conv2d(img, k, None, stride=2, padding=1)'],
  ['pools', (t) => torch.maxPool2d(t.img, 2).add(torch.avgPool2d(t.img, 2)).add(torch.adaptiveAvgPool2d(t.img, 1)), 'F.max_pool2d(img, 2) + F.avg_pool2d(img, 2) + F.adaptive_avg_pool2d(img, 1)'],
  ['batchNorm train', (t) => torch.batchNorm(t.img, null, null, { training: true }), 'F.batch_norm(img, None, None, training=True)'],
  ['crossEntropy', (t) => torch.crossEntropy(t.a, t.i.select(1, 0)), 'F.cross_entropy(a, i[:, 0])'],
  ['crossEntropy none smooth', (t) => torch.crossEntropy(t.a, t.i.select(1, 0), { reduction: 'none', labelSmoothing: 0.1 }), "F.cross_entropy(a, i[:, 0], reduction='none', label_smoothing=0.1)"],
  ['nllLoss sum', (t) => torch.nllLoss(t.a.logSoftmax(1), t.i.select(1, 0), { reduction: 'sum' }), "F.nll_loss(a.log_softmax(1), i[:, 0], reduction='sum')"],
  ['mseLoss', (t) => torch.mseLoss(t.a, t.b), 'F.mse_loss(a, b)'],
  ['klDiv batchmean', (t) => torch.klDiv(t.a.logSoftmax(1), t.b.softmax(1), { reduction: 'batchmean' }), "F.kl_div(a.log_softmax(1), b.softmax(1), reduction='batchmean')"],
  ['klDiv none', (t) => torch.klDiv(t.a.logSoftmax(1), t.b.softmax(1), { reduction: 'none' }), "F.kl_div(a.log_softmax(1), b.softmax(1), reduction='none')"],
];

test('ops and gradients match PyTorch', () => {
  torch.manualSeed(3);
  const t: Inputs = {
    a: torch.randn([4, 4]).requiresGrad_(),
    b: torch.randn([4, 4]),
    i: torch.randint(0, 4, [4, 2]),
    m: torch.rand([4, 4]).gt(0.5),
    img: torch.randn([2, 3, 6, 6]).requiresGrad_(),
    k: torch.randn([5, 3, 3, 3]),
  };
  const script = cases
    .map(([name, , py], n) => `
a = inp['a'].clone().requires_grad_(); img = inp['img'].clone().requires_grad_()
b, i, m, k = inp['b'], inp['i'], inp['m'].bool(), inp['k']
r = ${py}
out['v${n}'] = r
w = torch.linspace(-1, 1, r.numel()).reshape(r.shape)
ga = torch.autograd.grad((r * w).sum(), [a, img], allow_unused=True)
out['ga${n}'] = ga[0] if ga[0] is not None else torch.zeros(0)
out['gi${n}'] = ga[1] if ga[1] is not None else torch.zeros(0)
# ${name}`)
    .join('\n');
  const ref = pytorch('import torch.nn.functional as F\n' + script, t);
  cases.forEach(([name, fn], n) => {
    const r = fn(t);
    assertClose(r, ref[`v${n}`]!, { atol: 1e-5, rtol: 1e-4, what: `${name} value` });
    const w = torch.arange(0, r.numel).to("float32").mul(2 / Math.max(r.numel - 1, 1)).sub(1).reshape(r.shape);
    const [ga, gi] = torch.grad(r.mul(w).sum(), [t.a, t.img], { allowUnused: true });
    if (ref[`ga${n}`]!.data.length > 0) assertClose(ga!, ref[`ga${n}`]!, { atol: 1e-5, rtol: 1e-4, what: `${name} grad a` });
    if (ref[`gi${n}`]!.data.length > 0) assertClose(gi!, ref[`gi${n}`]!, { atol: 1e-5, rtol: 1e-4, what: `${name} grad img` });
  });
});

test('gradients agree with central finite differences in float64', () => {
  torch.manualSeed(4);
  const x = torch.randn([3, 5], { dtype: 'float64' }).requiresGrad_();
  const w = torch.randn([5, 4], { dtype: 'float64' });
  const target = torch.tensor(new BigInt64Array([0n, 3n, 1n]));
  const f = (v: Tensor): Tensor => torch.crossEntropy(v.matmul(w).tanh().mul(3), target).add(v.softmax(1).logsumexp(1).sum()).add(v.norm(2));
  const [g] = torch.grad(f(x), x);
  const h = 1e-6;
  const base = x.detach();
  for (const index of [0, 4, 7, 14]) {
    const bump = torch.zeros([15], { dtype: 'float64' }).scatter(0, torch.tensor(new BigInt64Array([BigInt(index)])), h).reshape([3, 5]);
    const numeric = (f(base.add(bump)).item() - f(base.sub(bump)).item()) / (2 * h);
    const analytic = g!.flatten().select(0, index).item();
    assert.ok(Math.abs(numeric - analytic) < 1e-6, `element ${index}: numeric ${numeric}, autograd ${analytic}`);
  }
});

test('dtype promotion, creation and readback follow PyTorch', () => {
  const i = torch.tensor(new BigInt64Array([1n, 2n]));
  assert.equal(i.add(1).dtype, 'int64');
  assert.equal(i.add(0.5).dtype, 'float32');
  assert.equal(i.gt(1).dtype, 'bool');
  assert.equal(i.add(torch.tensor([1.5, 2])).dtype, 'float32');
  assert.equal(torch.arange(3).dtype, 'int64');
  assert.equal(torch.arange(0, 1, 0.25).numel, 4);
  assert.deepEqual(torch.full([2], 7, { dtype: 'int32' }).toNumbers(), [7, 7]);
  assert.deepEqual(torch.tensor([[1, 2], [3, 4]]).toArray(), [[1, 2], [3, 4]]);
  assert.deepEqual(torch.tensor(new Uint8Array([3, 255])).toNumbers(), [3, 255]);
  const r = torch.randint(2, 5, [1000]).toNumbers();
  assert.ok(Math.min(...r) === 2 && Math.max(...r) === 4);
  assert.deepEqual([...torch.randperm(6).toNumbers()].sort(), [0, 1, 2, 3, 4, 5]);
  assert.throws(() => torch.tensor([1, 2, 3], [2, 2]), /shape \[2, 2\] holds 4 values but 3 were given/);
  assert.throws(() => torch.tensor([1, 2, 3]).item(), /only a one-element tensor/);
  const d = torch.ones([2]);
  d.dispose();
  assert.throws(() => d.add(1), /disposed/);
  assert.throws(() => torch.randn([2, 3]).transpose(0, 1).view([6]), /view/);
});

test('seeds and generator state reproduce streams bit for bit', () => {
  torch.manualSeed(9);
  const a = [torch.rand([5]), torch.randn([5]), torch.randperm(7)].map((t) => t.toNumbers());
  torch.manualSeed(9);
  const b = [torch.rand([5]), torch.randn([5]), torch.randperm(7)].map((t) => t.toNumbers());
  assert.deepEqual(a, b);
  const state = torch.keep(torch.getRngState());
  const next = torch.randn([4]).toNumbers();
  torch.setRngState(state);
  assert.deepEqual(torch.randn([4]).toNumbers(), next);
  const threads = torch.getNumThreads();
  torch.setNumThreads(1);
  assert.equal(torch.getNumThreads(), 1);
  torch.setNumThreads(threads);
});

test('autograd: backward accumulates, noGrad, createGraph for second derivatives', () => {
  const x = torch.tensor([1.5, -2]).requiresGrad_();
  x.pow(2).sum().backward();
  x.pow(2).sum().backward();
  assert.deepEqual(x.grad!.toNumbers(), [6, -8]);
  torch.zeroGrad([x]);
  assert.equal(x.grad, null);
  assert.equal(torch.noGrad(() => x.mul(2)).requiresGrad, false);
  const [g] = torch.grad(x.pow(3).sum(), x, { createGraph: true });
  const [gg] = torch.grad(g!.sum(), x);
  assert.deepEqual(gg!.toNumbers(), [9, -12]);
  const unused = torch.tensor([1]).requiresGrad_();
  assert.equal(torch.grad(x.sum(), [x, unused], { allowUnused: true })[1], null);
});

test('tidy disposes intermediates, keeps results and kept tensors, and cleans up on error', () => {
  let inner: Tensor | undefined;
  let kept: Tensor | undefined;
  const result = torch.tidy(() => {
    inner = torch.ones([3]).add(1);
    kept = torch.keep(torch.zeros([2]));
    const nested = torch.tidy(() => ({ out: inner!.mul(2), scratch: undefined }));
    return [nested.out];
  });
  assert.equal(inner!.isDisposed, true);
  assert.equal(kept!.isDisposed, false);
  assert.equal(result[0]!.isDisposed, false);
  assert.deepEqual(result[0]!.toNumbers(), [4, 4, 4]);
  let leaked: Tensor | undefined;
  assert.throws(() =>
    torch.tidy(() => {
      leaked = torch.ones([2]);
      throw new Error('boom');
    }),
  /boom/);
  assert.equal(leaked!.isDisposed, true);
});
