// Gradients of the differentiable ops, checked two ways: against PyTorch's
// autograd in float32, and against central finite differences in float64
// computed here. Each case's scalar is sum(result * fixed weights); the
// gradient is taken with respect to every float input, and inputs a case does
// not use must come back as null (allowUnused), exactly where PyTorch gives None.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { makeInputs, inFloat64, floatNames, weightsLike, asList, rows, pyCases, type Case, type Inputs, type Row } from './support.js';

const cases: Case[] = rows([
  ['add/sub/mul/div with broadcasting', (t) => t.a.add(t.row).mul(t.col).sub(t.b).div(t.pos), '((a + row) * col - b) / pos'],
  ['scalar operands', (t) => t.a.mul(2).sub(1).div(3).add(0.5), '(a * 2 - 1) / 3 + 0.5'],
  ['pow tensor exponent', (t) => t.pos.pow(t.b), 'pos ** b'],
  ['pow scalar exponent', (t) => t.a.pow(3).add(t.pos.pow(0.5)), 'a ** 3 + pos ** 0.5'],
  ['maximum/minimum', (t) => t.a.maximum(t.b).add(t.a.minimum(t.row)), 'torch.maximum(a, b) + torch.minimum(a, row)'],
  ['where', (t) => torch.where(t.m, t.a, t.b.mul(2)), 'torch.where(m, a, b * 2)'],
  ['clamp scalar bounds', (t) => t.a.clamp(-0.5, 0.5), 'a.clamp(-0.5, 0.5)'],
  ['clamp tensor bounds', (t) => t.a.clamp(t.b.sub(0.3), t.row), 'torch.clamp(a, b - 0.3, row)'],
  [
    'exp log log1p sqrt rsqrt',
    (t) => t.a.exp().add(t.pos.log()).add(t.pos.log1p()).add(t.pos.sqrt()).add(t.pos.rsqrt()),
    'a.exp() + pos.log() + pos.log1p() + pos.sqrt() + pos.rsqrt()',
  ],
  [
    'square reciprocal neg abs',
    (t) => t.a.square().add(t.pos.reciprocal()).add(t.b.neg()).add(t.b.abs()),
    'a.square() + pos.reciprocal() + (-b) + b.abs()',
  ],
  [
    'relu sigmoid tanh sin cos',
    (t) => t.a.relu().add(t.a.sigmoid()).add(t.b.tanh()).add(t.b.sin()).add(t.a.cos()),
    'a.relu() + a.sigmoid() + b.tanh() + b.sin() + a.cos()',
  ],
  ['softmax', (t) => t.c.softmax(1), 'c.softmax(1)'],
  ['logSoftmax', (t) => t.c.logSoftmax(-1), 'c.log_softmax(-1)'],
  ['cumsum', (t) => t.c.cumsum(2), 'c.cumsum(2)'],
  [
    'matmul',
    (t) => t.a.matmul(t.b.transpose(0, 1)).add(t.c.matmul(t.lw.transpose(0, 1)).sum(0).sum(0).sum()),
    'a @ b.t() + (c @ lw.t()).sum()',
  ],
  [
    'sum and mean with keepdim',
    (t) => t.c.sum(1, true).add(t.c.mean([0, 2], true).sum()),
    'c.sum(1, keepdim=True) + c.mean((0, 2), keepdim=True).sum()',
  ],
  ['amax and amin', (t) => t.c.amax(2).add(t.c.amin([0, 1]).sum()), 'c.amax(2) + c.amin((0, 1)).sum()'],
  [
    'max and min along a dim',
    (t) => t.c.max(1).values.add(t.c.min(1, true).values.squeeze(1)),
    'c.max(1).values + c.min(1, keepdim=True).values.squeeze(1)',
  ],
  ['logsumexp', (t) => t.c.logsumexp([1, 2], true), 'c.logsumexp((1, 2), keepdim=True)'],
  ['var and std', (t) => t.c.var(1).add(t.c.std([0, 2]).sum()), 'c.var(1) + c.std((0, 2)).sum()'],
  ...[1, 2, Infinity].map((p): Row => [
    `norm p=${p}`,
    (t) => t.c.norm(p, 2).add(t.a.norm(p)),
    `torch.linalg.vector_norm(c, ${p === Infinity ? "float('inf')" : p}, dim=2) + torch.linalg.vector_norm(a, ${p === Infinity ? "float('inf')" : p})`,
  ]),
  ['sort values', (t) => t.a.sort(1, true).values, 'a.sort(1, descending=True).values'],
  ['topk values', (t) => t.a.topk(2, 0).values, 'a.topk(2, 0).values'],
  ['gather with repeated indices', (t) => t.a.gather(1, t.dupIdx), 'a.gather(1, dupIdx)'],
  ['scatter tensor source', (t) => t.a.scatter(1, t.idx, t.b.narrow(1, 0, 2)), 'a.scatter(1, idx, b[:, 0:2])'],
  ['scatterAdd', (t) => t.a.scatterAdd(1, t.dupIdx, t.b.narrow(1, 1, 2)), 'a.scatter_add(1, dupIdx, b[:, 1:3])'],
  ['indexSelect', (t) => t.c.indexSelect(2, t.rowsIdx), 'c.index_select(2, rowsIdx)'],
  ['indexCopy', (t) => t.a.indexCopy(0, t.rowsIdx, t.b.narrow(0, 0, 2)), 'a.index_copy(0, rowsIdx, b[0:2])'],
  ['maskedSelect', (t) => t.a.maskedSelect(t.m), 'a.masked_select(m)'],
  ['maskedFill', (t) => t.a.maskedFill(t.m, 0.5), 'a.masked_fill(m, 0.5)'],
  ['cat and stack', (t) => torch.cat([t.a, torch.stack([t.a, t.b], 2).sum(2)], 1), 'torch.cat([a, torch.stack([a, b], 2).sum(2)], 1)'],
  ['split and chunk', (t) => t.a.split([1, 3], 1)[1]!.add(t.b.chunk(2, 1)[0]!.sum()), 'a.split([1, 3], 1)[1] + b.chunk(2, 1)[0].sum()'],
  [
    'reshape view flatten permute transpose',
    (t) => t.c.reshape([4, 6]).view([2, 12]).flatten().reshape([2, 3, 4]).permute([2, 0, 1]).transpose(0, 1),
    'c.reshape(4, 6).view(2, 12).flatten().reshape(2, 3, 4).permute(2, 0, 1).transpose(0, 1)',
  ],
  [
    'unsqueeze squeeze expand repeat',
    (t) =>
      t.col
        .unsqueeze(0)
        .expand([2, 3, 4])
        .repeat([1, 1, 2])
        .add(t.row.unsqueeze(1).squeeze(1).repeat([2])),
    'col.unsqueeze(0).expand(2, 3, 4).repeat(1, 1, 2) + row.unsqueeze(1).squeeze(1).repeat(2)',
  ],
  [
    'narrow slice select flip',
    (t) => t.c.narrow(2, 1, 2).slice(1, 0, 3, 2).flip([0, 2]).add(t.c.select(1, -1).sum()),
    'c[:, :, 1:3][:, 0:3:2].flip(0, 2) + c[:, -1].sum()',
  ],
  ...(['constant', 'reflect', 'replicate'] as const).map((mode): Row => [
    `pad ${mode}`,
    (t) => torch.pad(t.img, [1, 2, 2, 1], mode, 0.5),
    mode === 'constant' ? 'F.pad(img, [1, 2, 2, 1], value=0.5)' : `F.pad(img, [1, 2, 2, 1], mode='${mode}')`,
  ]),
  [
    'conv2d stride 2 padding 1 with bias',
    (t) => torch.conv2d(t.img, t.kw, t.kb, { stride: 2, padding: 1 }),
    'F.conv2d(img, kw, kb, stride=2, padding=1)',
  ],
  [
    'conv2d groups 2',
    (t) => torch.conv2d(t.img, t.kg, null, { groups: 2, padding: [0, 1] }),
    'F.conv2d(img, kg, None, padding=(0, 1), groups=2)',
  ],
  ['linear', (t) => torch.linear(t.c, t.lw, t.lb), 'F.linear(c, lw, lb)'],
  [
    'batchNorm train with affine',
    (t) => torch.batchNorm(t.img, null, null, { training: true, weight: t.bnW, bias: t.bnB }),
    'F.batch_norm(img, None, None, bnW, bnB, training=True)',
  ],
  [
    'batchNorm eval with affine',
    (t) => torch.batchNorm(t.img, t.runMean.detach(), t.runVar.detach(), { weight: t.bnW, bias: t.bnB }),
    'F.batch_norm(img, runMean.detach(), runVar.detach(), bnW, bnB)',
  ],
  ['maxPool2d', (t) => torch.maxPool2d(t.img, 3, { stride: 2, padding: 1 }), 'F.max_pool2d(img, 3, 2, 1)'],
  [
    'avgPool2d',
    (t) => torch.avgPool2d(t.img, 3, { stride: 2, padding: 1, countIncludePad: false }),
    'F.avg_pool2d(img, 3, 2, 1, count_include_pad=False)',
  ],
  ['adaptiveAvgPool2d', (t) => torch.adaptiveAvgPool2d(t.img, 4), 'F.adaptive_avg_pool2d(img, 4)'],
  ['crossEntropy mean', (t) => torch.crossEntropy(t.logits, t.target), 'F.cross_entropy(logits, target)'],
  [
    'crossEntropy none with label smoothing',
    (t) => torch.crossEntropy(t.logits, t.target, { reduction: 'none', labelSmoothing: 0.1 }),
    "F.cross_entropy(logits, target, reduction='none', label_smoothing=0.1)",
  ],
  [
    'nllLoss sum',
    (t) => torch.nllLoss(t.logits.logSoftmax(1), t.target, { reduction: 'sum' }),
    "F.nll_loss(logits.log_softmax(1), target, reduction='sum')",
  ],
  ['mseLoss', (t) => torch.mseLoss(t.a, t.b), 'F.mse_loss(a, b)'],
  [
    'klDiv batchmean',
    (t) => torch.klDiv(t.logits.logSoftmax(1), t.probs, { reduction: 'batchmean' }),
    "F.kl_div(logits.log_softmax(1), probs, reduction='batchmean')",
  ],
  [
    'klDiv none with log target',
    (t) => torch.klDiv(t.logits.logSoftmax(1), t.probs.log(), { reduction: 'none', logTarget: true }),
    "F.kl_div(logits.log_softmax(1), probs.log(), reduction='none', log_target=True)",
  ],
]);

/** Fresh leaves requiring grad for every float input; integer and bool inputs are shared. */
function leavesOf(t: Inputs): Inputs {
  const leaves = { ...t };
  for (const k of floatNames(t)) leaves[k] = t[k].detach().clone().requiresGrad_();
  return leaves;
}
const scalarOf = (c: Case, t: Inputs): Tensor =>
  asList(c.ours(t))
    .map((x) => x.mul(weightsLike(x)).sum())
    .reduce((s, x) => s.add(x));

/** Our gradient of the case's scalar with respect to every float input (null where unused). */
function ourGradients(c: Case, t: Inputs): Map<string, Tensor | null> {
  const leaves = leavesOf(t);
  const names = floatNames(t);
  const grads = torch.grad(
    scalarOf(c, leaves),
    names.map((k) => leaves[k]),
    { allowUnused: true },
  );
  return new Map(names.map((k, i) => [k, grads[i]!]));
}

test('gradients of every differentiable op match PyTorch autograd (float32)', () => {
  const t = makeInputs(21);
  const ref = pytorch('engine.py', 'table_gradients', { tensors: { ...t }, cases: pyCases(cases, 'g') });
  const failures: string[] = [];
  cases.forEach((c, n) =>
    torch.tidy(() => {
      try {
        assert.equal(ref[`g${n}.error`] as unknown, undefined, `PyTorch raised ${String(ref[`g${n}.error`])}`);
        for (const [name, g] of ourGradients(c, t)) {
          const expected = ref[`g${n}.${name}`];
          assert.equal(
            g === null,
            expected === undefined,
            `d/d${name}: ours ${g === null ? 'null' : 'a tensor'}, PyTorch ${expected ? 'a tensor' : 'None'}`,
          );
          if (g !== null) assertClose(g, expected!, { atol: 5e-5, rtol: 2e-4, what: `d/d${name}` });
        }
      } catch (err) {
        failures.push(`${c.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }),
  );
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} gradient cases differ from PyTorch`);
});

test('gradients agree with central finite differences in float64', () => {
  const t = inFloat64(makeInputs(22));
  const h = 1e-6;
  const failures: string[] = [];
  let checked = 0;
  for (const c of cases) {
    torch.tidy(() => {
      for (const [name, g] of ourGradients(c, t)) {
        if (g === null) continue;
        const base = t[name as keyof Inputs];
        const n = base.numel;
        for (const i of new Set([0, Math.floor(n / 2), n - 1])) {
          const numeric = torch.tidy(() => {
            const bump = torch
              .zeros([n], { dtype: 'float64' })
              .scatter(0, torch.tensor([i], { dtype: 'int64' }), h)
              .reshape(base.shape);
            const at = (x: Tensor): number => torch.noGrad(() => scalarOf(c, { ...t, [name]: x }).item());
            return (at(base.add(bump)) - at(base.sub(bump))) / (2 * h);
          });
          const analytic = g.flatten().select(0, i).item();
          checked++;
          if (!(Math.abs(numeric - analytic) <= 1e-6 + 1e-5 * Math.abs(analytic))) {
            failures.push(`${c.name}: d/d${name}[${i}] autograd ${analytic}, finite difference ${numeric}`);
          }
        }
      }
    });
  }
  assert.ok(checked > 3 * cases.length, `only ${checked} elements were checked`);
  assert.deepEqual(failures, []);
});
