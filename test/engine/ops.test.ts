// Forward values of every tensor op against PyTorch: elementwise with
// broadcasting and scalars, dtype promotion, comparisons, in-place ops,
// reductions, sorting and indexing, shape ops. Values, dtypes and shapes must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { makeInputs, checkTableAgainstPytorch, pyDims, pyBool, rows, type Case, type Inputs, type InputName, type Row } from './support.js';

const inputs = makeInputs();

// ---- elementwise binary ops: every op against a same-shape tensor, two broadcast shapes and a scalar
type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
const binaryPy: Record<BinaryName, (x: string, y: string) => string> = {
  add: (x, y) => `${x} + ${y}`,
  sub: (x, y) => `${x} - ${y}`,
  mul: (x, y) => `${x} * ${y}`,
  div: (x, y) => `${x} / ${y}`,
  maximum: (x, y) => `torch.maximum(${x}, torch.as_tensor(${y}))`,
  minimum: (x, y) => `torch.minimum(${x}, torch.as_tensor(${y}))`,
  eq: (x, y) => `${x} == ${y}`,
  ne: (x, y) => `${x} != ${y}`,
  lt: (x, y) => `${x} < ${y}`,
  le: (x, y) => `${x} <= ${y}`,
  gt: (x, y) => `${x} > ${y}`,
  ge: (x, y) => `${x} >= ${y}`,
};
const binaryRight: [string, (t: Inputs) => Tensor | number, string][] = [
  ['same shape', (t) => t.b, 'b'],
  ['row broadcast', (t) => t.row, 'row'],
  ['column broadcast', (t) => t.col, 'col'],
  ['scalar', () => 0.5, '0.5'],
];
const binaryCases: Case[] = (Object.keys(binaryPy) as BinaryName[]).flatMap((op) =>
  binaryRight.map(([label, right, py]): Case => ({
    name: `a.${op}(${label})`,
    ours: (t) => t.a[op](right(t)),
    py: binaryPy[op]('a', py),
  })),
);

// ---- dtype promotion: the result dtype is checked along with the values
const promotionCases: Case[] = rows([
  ['int64 + int64 stays int64', (t) => t.ia.add(t.ib), 'ia + ib'],
  ['int64 + integer scalar stays int64', (t) => t.ia.add(3), 'ia + 3'],
  ['int64 * integer scalar stays int64', (t) => t.ia.mul(-2), 'ia * -2'],
  ['int64 + float scalar is float32', (t) => t.ia.add(0.5), 'ia + 0.5'],
  ['int64 * float32 is float32', (t) => t.ia.mul(t.a), 'ia * a'],
  ['float32 - int64 is float32', (t) => t.a.sub(t.ia), 'a - ia'],
  ['int64 / int64 is true division in float32', (t) => t.ia.div(t.ib), 'ia / ib'],
  ['int32 + int64 is int64', (t) => t.ic.add(t.ia), 'ic + ia'],
  ['int32 + integer scalar stays int32', (t) => t.ic.add(2), 'ic + 2'],
  ['int32 + float32 is float32', (t) => t.ic.add(t.a), 'ic + a'],
  ['uint8 + int64 is int64', (t) => t.u8.add(t.ia), 'u8 + ia'],
  ['uint8 + integer scalar stays uint8', (t) => t.u8.add(1), 'u8 + 1'],
  ['float64 + float32 is float64', (t) => t.a.to('float64').add(t.b), 'a.double() + b'],
  ['int64 + float64 is float64', (t) => t.ia.add(t.a.to('float64')), 'ia + a.double()'],
  ['bool + int64 is int64', (t) => t.m.add(t.ia), 'm + ia'],
  ['int64 compared with a float is bool', (t) => t.ia.gt(0.5), 'ia > 0.5'],
  ['float32 compared with int64 is bool', (t) => t.a.le(t.ia), 'a <= ia'],
  ['bool equality', (t) => t.m.eq(t.m2), 'm == m2'],
  ['int64 maximum stays int64', (t) => t.ia.maximum(t.ib), 'torch.maximum(ia, ib)'],
]);

// ---- more elementwise: powers, remainders, logic, unary functions
const elementwiseCases: Case[] = rows([
  ['pos.pow(b)', (t) => t.pos.pow(t.b), 'pos ** b'],
  ['a.pow(2)', (t) => t.a.pow(2), 'a ** 2'],
  ['a.pow(3) with a negative base', (t) => t.a.pow(3), 'a ** 3'],
  ['pos.pow(0.5)', (t) => t.pos.pow(0.5), 'pos ** 0.5'],
  ['pos.pow(row) broadcast', (t) => t.pos.pow(t.row), 'pos ** row'],
  ['ia.pow(2) stays int64', (t) => t.ia.pow(2), 'ia ** 2'],
  ['a.remainder(1.5) (sign of divisor)', (t) => t.a.remainder(1.5), 'torch.remainder(a, 1.5)'],
  ['a.remainder(b)', (t) => t.a.remainder(t.b), 'torch.remainder(a, b)'],
  ['ia.remainder(ib)', (t) => t.ia.remainder(t.ib), 'torch.remainder(ia, ib)'],
  ['ia.remainder(-4)', (t) => t.ia.remainder(-4), 'torch.remainder(ia, -4)'],
  ['a.floorDivide(0.7)', (t) => t.a.floorDivide(0.7), "torch.div(a, 0.7, rounding_mode='floor')"],
  ['ia.floorDivide(ib) rounds toward -inf', (t) => t.ia.floorDivide(t.ib), "torch.div(ia, ib, rounding_mode='floor')"],
  ['ia.floorDivide(3)', (t) => t.ia.floorDivide(3), "torch.div(ia, 3, rounding_mode='floor')"],
  ['m.logicalAnd(m2)', (t) => t.m.logicalAnd(t.m2), 'torch.logical_and(m, m2)'],
  ['m.logicalOr(m2)', (t) => t.m.logicalOr(t.m2), 'torch.logical_or(m, m2)'],
  ['m.logicalXor(m2)', (t) => t.m.logicalXor(t.m2), 'torch.logical_xor(m, m2)'],
  ['m.logicalNot()', (t) => t.m.logicalNot(), 'torch.logical_not(m)'],
  ['a.logicalAnd(ia) on numbers', (t) => t.a.logicalAnd(t.ia), 'torch.logical_and(a, ia)'],
  ['ia.neg()', (t) => t.ia.neg(), '-ia'],
  ['ia.abs()', (t) => t.ia.abs(), 'ia.abs()'],
  ['ia.sign()', (t) => t.ia.sign(), 'ia.sign()'],
  ['a.mul(2.5).round()', (t) => t.a.mul(2.5).round(), '(a * 2.5).round()'],
  [
    'round of exact halves',
    () => torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]).round(),
    'torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]).round()',
  ],
  [
    'isnan',
    () => torch.tensor([1, NaN, Infinity, -Infinity]).isnan(),
    "torch.tensor([1, float('nan'), float('inf'), -float('inf')]).isnan()",
  ],
  [
    'isinf',
    () => torch.tensor([1, NaN, Infinity, -Infinity]).isinf(),
    "torch.tensor([1, float('nan'), float('inf'), -float('inf')]).isinf()",
  ],
  [
    'isfinite',
    () => torch.tensor([1, NaN, Infinity, -Infinity]).isfinite(),
    "torch.tensor([1, float('nan'), float('inf'), -float('inf')]).isfinite()",
  ],
  ['matmul 2-d', (t) => t.a.matmul(t.b.transpose(0, 1)), 'a @ b.t()'],
  ['matmul batched 3-d by 2-d', (t) => t.c.matmul(t.lw.transpose(0, 1)), 'c @ lw.t()'],
  ['matmul matrix by vector', (t) => t.a.matmul(t.row), 'a @ row'],
  ['matmul int64', (t) => t.ia.matmul(t.ib.transpose(0, 1)), 'ia @ ib.t()'],
  ...[0, 1, -1].flatMap((d): Row[] => [
    [`softmax(${d})`, (t) => t.c.softmax(d), `c.softmax(${d})`],
    [`logSoftmax(${d})`, (t) => t.c.logSoftmax(d), `c.log_softmax(${d})`],
    [`cumsum(${d})`, (t) => t.c.cumsum(d), `c.cumsum(${d})`],
  ]),
  ['ia.cumsum(1) stays int64', (t) => t.ia.cumsum(1), 'ia.cumsum(1)'],
]);

// Unary float functions, each on an input inside its domain (source, Python method name).
const unaryFloat: [keyof Tensor & string, InputName, string][] = [
  ['neg', 'a', 'neg'],
  ['abs', 'a', 'abs'],
  ['sign', 'a', 'sign'],
  ['exp', 'a', 'exp'],
  ['log', 'pos', 'log'],
  ['log1p', 'pos', 'log1p'],
  ['sqrt', 'pos', 'sqrt'],
  ['rsqrt', 'pos', 'rsqrt'],
  ['square', 'a', 'square'],
  ['reciprocal', 'pos', 'reciprocal'],
  ['relu', 'a', 'relu'],
  ['sigmoid', 'a', 'sigmoid'],
  ['tanh', 'a', 'tanh'],
  ['sin', 'a', 'sin'],
  ['cos', 'a', 'cos'],
  ['floor', 'a', 'floor'],
  ['ceil', 'a', 'ceil'],
  ['round', 'a', 'round'],
];
const unaryCases: Case[] = unaryFloat.map(([op, src, py]) => ({
  name: `${src}.${op}()`,
  ours: (t) => (t[src][op] as () => Tensor).call(t[src]),
  py: `${src}.${py}()`,
}));

// ---- where and clamp, with scalars and tensors in every position
const whereClampCases: Case[] = rows([
  ['where(m, a, b)', (t) => torch.where(t.m, t.a, t.b), 'torch.where(m, a, b)'],
  ['where(m, a, scalar)', (t) => torch.where(t.m, t.a, 0.5), 'torch.where(m, a, torch.as_tensor(0.5))'],
  ['where(m, scalar, a)', (t) => torch.where(t.m, -2, t.a), 'torch.where(m, torch.as_tensor(-2.0), a)'],
  ['where(m, 1, 0) gives int64', (t) => torch.where(t.m, 1, 0), 'torch.where(m, torch.as_tensor(1), torch.as_tensor(0))'],
  ['where(m, row, col) broadcasts', (t) => torch.where(t.m, t.row, t.col), 'torch.where(m, row, col)'],
  ['where(m, ia, a) promotes', (t) => torch.where(t.m, t.ia, t.a), 'torch.where(m, ia, a)'],
  ['clamp(-0.5, 0.5)', (t) => t.a.clamp(-0.5, 0.5), 'a.clamp(-0.5, 0.5)'],
  ['clamp(null, 0.2)', (t) => t.a.clamp(null, 0.2), 'a.clamp(max=0.2)'],
  ['clamp(0, null)', (t) => t.a.clamp(0), 'a.clamp(min=0)'],
  ['clamp(tensor, tensor)', (t) => t.a.clamp(t.b.sub(0.3), t.b.add(0.3)), 'torch.clamp(a, b - 0.3, b + 0.3)'],
  ['clamp(tensor, null)', (t) => t.a.clamp(t.b), 'torch.clamp(a, min=b)'],
  ['clamp(null, broadcast tensor)', (t) => t.a.clamp(null, t.row), 'torch.clamp(a, max=row)'],
  ['clamp(scalar, tensor)', (t) => t.a.clamp(-0.3, t.b), 'torch.clamp(a, torch.as_tensor(-0.3), b)'],
  ['torch.clamp functional', (t) => torch.clamp(t.a, t.col, 1), 'torch.clamp(a, col, torch.as_tensor(1.0))'],
  ['ia.clamp(-2, 2) stays int64', (t) => t.ia.clamp(-2, 2), 'ia.clamp(-2, 2)'],
  ['maximum with scalar', (t) => torch.maximum(t.a, 0), 'torch.maximum(a, torch.as_tensor(0.0))'],
]);

// ---- in-place ops act on a clone and return it
const inplaceCases: Case[] = rows([
  ['add_(b)', (t) => t.a.clone().add_(t.b), 'a.clone().add_(b)'],
  ['add_(b, alpha)', (t) => t.a.clone().add_(t.b, -0.5), 'a.clone().add_(b, alpha=-0.5)'],
  ['add_(scalar)', (t) => t.a.clone().add_(2), 'a.clone().add_(2)'],
  ['sub_(scalar)', (t) => t.a.clone().sub_(0.25), 'a.clone().sub_(0.25)'],
  ['mul_(row broadcast)', (t) => t.a.clone().mul_(t.row), 'a.clone().mul_(row)'],
  ['div_(tensor)', (t) => t.a.clone().div_(t.pos), 'a.clone().div_(pos)'],
  ['copy_(tensor)', (t) => t.a.clone().copy_(t.b), 'a.clone().copy_(b)'],
  ['copy_(broadcast)', (t) => t.a.clone().copy_(t.row), 'a.clone().copy_(row)'],
  ['fill_(scalar)', (t) => t.a.clone().fill_(1.5), 'a.clone().fill_(1.5)'],
  ['zero_()', (t) => t.a.clone().zero_(), 'a.clone().zero_()'],
  ['clamp_(scalars)', (t) => t.a.clone().clamp_(-0.2, 0.3), 'a.clone().clamp_(-0.2, 0.3)'],
  ['clamp_(tensors)', (t) => t.a.clone().clamp_(t.b.sub(0.1), t.b.add(0.1)), 'a.clone().clamp_(b - 0.1, b + 0.1)'],
  ['maximum_(tensor)', (t) => t.a.clone().maximum_(t.b), 'torch.maximum(a, b)'],
  ['minimum_(scalar)', (t) => t.a.clone().minimum_(0.1), 'torch.minimum(a, torch.as_tensor(0.1))'],
  ['addcmul_', (t) => t.a.clone().addcmul_(t.b, t.pos, 0.5), 'a.clone().addcmul_(b, pos, value=0.5)'],
  ['addcdiv_', (t) => t.a.clone().addcdiv_(t.b, t.pos, -2), 'a.clone().addcdiv_(b, pos, value=-2)'],
  ['lerp_', (t) => t.a.clone().lerp_(t.b, 0.3), 'a.clone().lerp_(b, 0.3)'],
  ['indexCopy_', (t) => t.a.clone().indexCopy_(0, t.rowsIdx, t.b.narrow(0, 0, 2)), 'a.clone().index_copy_(0, rowsIdx, b[0:2])'],
  ['ia.add_(int) stays int64', (t) => t.ia.clone().add_(3), 'ia.clone().add_(3)'],
]);

// ---- reductions over dims, with and without keepdim
const dimChoices: (number | number[] | undefined)[] = [undefined, 1, [0, 2], -1];
type ReduceName = 'sum' | 'mean' | 'amax' | 'amin' | 'logsumexp' | 'var' | 'std';
const reducePy: Record<ReduceName, string> = {
  sum: 'c.sum',
  mean: 'c.mean',
  amax: 'c.amax',
  amin: 'c.amin',
  logsumexp: 'c.logsumexp',
  var: 'c.var',
  std: 'c.std',
};
const allDimsPy = '(0, 1, 2)';
const reductionCases: Case[] = (Object.keys(reducePy) as ReduceName[]).flatMap((op) =>
  dimChoices.flatMap((dims) =>
    [false, true].map((keepdim): Case => ({
      name: `c.${op}(${JSON.stringify(dims)}, keepdim ${keepdim})`,
      ours: (t) => t.c[op](dims, keepdim),
      py: `${reducePy[op]}(dim=${dims === undefined ? allDimsPy : pyDims(dims)}, keepdim=${pyBool(keepdim)})`,
    })),
  ),
);
const normCases: Case[] = [1, 2, Infinity].flatMap((p) =>
  [undefined, 1, [1, 2]].flatMap((dims) =>
    [false, true].map((keepdim): Case => ({
      name: `c.norm(${p}, ${JSON.stringify(dims)}, keepdim ${keepdim})`,
      ours: (t) => t.c.norm(p, dims, keepdim),
      py: `torch.linalg.vector_norm(c, ${p === Infinity ? "float('inf')" : p}, dim=${pyDims(dims)}, keepdim=${pyBool(keepdim)})`,
    })),
  ),
);
const extremumCases: Case[] = (['max', 'min'] as const).flatMap((op) => [
  { name: `c.${op}() overall`, ours: (t: Inputs) => t.c[op](), py: `c.${op}()` },
  ...[0, -1].flatMap((dim) =>
    [false, true].map((keepdim): Case => ({
      name: `c.${op}(${dim}, keepdim ${keepdim}) values and indices`,
      ours: (t) => {
        const r = t.c[op](dim, keepdim);
        return [r.values, r.indices];
      },
      py: `list(c.${op}(${dim}, keepdim=${pyBool(keepdim)}))`,
    })),
  ),
]);
const argCases: Case[] = (['argmax', 'argmin'] as const).flatMap((op) => [
  { name: `c.${op}() flat index`, ours: (t: Inputs) => t.c[op](), py: `c.${op}()` },
  ...[1, -1].flatMap((dim) =>
    [false, true].map((keepdim): Case => ({
      name: `c.${op}(${dim}, keepdim ${keepdim})`,
      ours: (t) => t.c[op](dim, keepdim),
      py: `c.${op}(${dim}, keepdim=${pyBool(keepdim)})`,
    })),
  ),
]);
const logicalReductionCases: Case[] = rows([
  ['m.all()', (t) => t.m.all(), 'm.all()'],
  ['m.any()', (t) => t.m.any(), 'm.any()'],
  ['m.all(1)', (t) => t.m.all(1), 'm.all(1)'],
  ['m.any(0, keepdim)', (t) => t.m.any(0, true), 'm.any(0, keepdim=True)'],
  ['ia.sum(1) stays int64', (t) => t.ia.sum(1), 'ia.sum(1)'],
  ['m.sum() counts as int64', (t) => t.m.sum(), 'm.sum()'],
  ['ia.amax(0)', (t) => t.ia.amax(0), 'ia.amax(0)'],
]);

// ---- sorting and indexing
const pair = (r: { values: Tensor; indices: Tensor }): Tensor[] => [r.values, r.indices];
const indexingCases: Case[] = rows([
  ['sort(1)', (t) => pair(t.a.sort(1)), 'list(a.sort(1))'],
  ['sort(0, descending)', (t) => pair(t.a.sort(0, true)), 'list(a.sort(0, descending=True))'],
  ['sort() last dim of 3-d', (t) => pair(t.c.sort()), 'list(c.sort())'],
  ['topk(2, 1)', (t) => pair(t.a.topk(2, 1)), 'list(a.topk(2, 1))'],
  ['topk(2, 0, smallest)', (t) => pair(t.a.topk(2, 0, false)), 'list(a.topk(2, 0, largest=False))'],
  ['gather(1, idx)', (t) => t.a.gather(1, t.idx), 'a.gather(1, idx)'],
  ['gather(1, repeated idx)', (t) => t.a.gather(1, t.dupIdx), 'a.gather(1, dupIdx)'],
  ['gather(0, idx)', (t) => t.a.gather(0, t.idx.clamp(0, 2)), 'a.gather(0, idx.clamp(0, 2))'],
  ['scatter(1, idx, tensor)', (t) => t.a.scatter(1, t.idx, t.b), 'a.scatter(1, idx, b)'],
  ['scatter(1, idx, scalar)', (t) => t.a.scatter(1, t.idx, 0), 'a.scatter(1, idx, 0.0)'],
  ['scatterAdd(1, repeated idx, tensor)', (t) => t.a.scatterAdd(1, t.dupIdx, t.b), 'a.scatter_add(1, dupIdx, b)'],
  ['indexSelect(0)', (t) => t.a.indexSelect(0, t.rowsIdx), 'a.index_select(0, rowsIdx)'],
  ['indexSelect(1)', (t) => t.c.indexSelect(-1, t.rowsIdx), 'c.index_select(-1, rowsIdx)'],
  ['indexCopy(0)', (t) => t.a.indexCopy(0, t.rowsIdx, t.b.narrow(0, 1, 2)), 'a.index_copy(0, rowsIdx, b[1:3])'],
  ['maskedSelect', (t) => t.a.maskedSelect(t.m), 'a.masked_select(m)'],
  ['maskedSelect broadcast mask', (t) => t.c.maskedSelect(t.m), 'c.masked_select(m)'],
  ['maskedFill(scalar)', (t) => t.a.maskedFill(t.m, -1), 'a.masked_fill(m, -1.0)'],
  ['maskedFill(0-d tensor)', (t) => t.a.maskedFill(t.m, torch.tensor(2.5)), 'a.masked_fill(m, torch.tensor(2.5))'],
  ['nonzero', (t) => t.m.nonzero(), 'm.nonzero()'],
  ['cat dim 0', (t) => torch.cat([t.a, t.b, t.pos], 0), 'torch.cat([a, b, pos], 0)'],
  ['cat dim 1', (t) => torch.cat([t.a, t.col], 1), 'torch.cat([a, col], 1)'],
  ['cat dim -1 promotes', (t) => torch.cat([t.ia, t.a], -1), 'torch.cat([ia, a], -1)'],
  ['stack dim 0', (t) => torch.stack([t.a, t.b]), 'torch.stack([a, b])'],
  ['stack dim 2', (t) => torch.stack([t.a, t.b, t.pos], 2), 'torch.stack([a, b, pos], 2)'],
  ['split(2, 1)', (t) => t.a.split(2, 1), 'list(a.split(2, 1))'],
  ['split(3, -1) uneven', (t) => t.c.split(3, -1), 'list(c.split(3, -1))'],
  ['split([1, 3], 1)', (t) => t.a.split([1, 3], 1), 'list(a.split([1, 3], 1))'],
  ['chunk(2, 0) uneven', (t) => t.a.chunk(2, 0), 'list(a.chunk(2, 0))'],
  ['chunk(4, 1)', (t) => t.c.chunk(4, 2), 'list(c.chunk(4, 2))'],
  ['oneHot(target, 7)', (t) => torch.oneHot(t.target, 7), 'F.one_hot(target, 7)'],
  ['oneHot(target) inferred classes', (t) => torch.oneHot(t.target), 'F.one_hot(target)'],
]);

// ---- shape ops (results are compared as values; view semantics are tested separately)
const shapeCases: Case[] = rows([
  ['reshape([4, 3])', (t) => t.a.reshape([4, 3]), 'a.reshape(4, 3)'],
  ['reshape([-1])', (t) => t.c.reshape([-1]), 'c.reshape(-1)'],
  ['reshape of a transpose', (t) => t.a.transpose(0, 1).reshape([2, 6]), 'a.t().reshape(2, 6)'],
  ['view([2, -1])', (t) => t.c.view([2, -1]), 'c.view(2, -1)'],
  ['flatten()', (t) => t.c.flatten(), 'c.flatten()'],
  ['flatten(1)', (t) => t.c.flatten(1), 'c.flatten(1)'],
  ['flatten(0, 1)', (t) => t.c.flatten(0, 1), 'c.flatten(0, 1)'],
  ['permute([2, 0, 1])', (t) => t.c.permute([2, 0, 1]), 'c.permute(2, 0, 1)'],
  ['transpose(0, 2)', (t) => t.c.transpose(0, 2), 'c.transpose(0, 2)'],
  ['transpose(-1, -2)', (t) => t.c.transpose(-1, -2), 'c.transpose(-1, -2)'],
  ['unsqueeze(0)', (t) => t.a.unsqueeze(0), 'a.unsqueeze(0)'],
  ['unsqueeze(-1)', (t) => t.a.unsqueeze(-1), 'a.unsqueeze(-1)'],
  ['squeeze()', (t) => t.col.unsqueeze(0).squeeze(), 'col.unsqueeze(0).squeeze()'],
  ['squeeze(1)', (t) => t.col.squeeze(1), 'col.squeeze(1)'],
  ['squeeze(0) of a non-1 dim is a no-op', (t) => t.col.squeeze(0), 'col.squeeze(0)'],
  ['expand row', (t) => t.row.expand([2, 3, 4]), 'row.expand(2, 3, 4)'],
  ['expand column with -1', (t) => t.col.expand([-1, 4]), 'col.expand(-1, 4)'],
  ['expandAs', (t) => t.col.expandAs(t.a), 'col.expand_as(a)'],
  ['repeat([2, 1])', (t) => t.a.repeat([2, 1]), 'a.repeat(2, 1)'],
  ['repeat adds a dim', (t) => t.a.repeat([2, 1, 3]), 'a.repeat(2, 1, 3)'],
  ['narrow(1, 1, 2)', (t) => t.a.narrow(1, 1, 2), 'a.narrow(1, 1, 2)'],
  ['narrow(-1, 0, 1)', (t) => t.c.narrow(-1, 0, 1), 'c.narrow(-1, 0, 1)'],
  ['slice(1, 1, 4, 2)', (t) => t.a.slice(1, 1, 4, 2), 'a[:, 1:4:2]'],
  ['slice(0, -2)', (t) => t.a.slice(0, -2), 'a[-2:]'],
  ['slice(2, 0, end, 3)', (t) => t.c.slice(2, 0, undefined, 3), 'c[:, :, ::3]'],
  ['slice(1, 0, -1)', (t) => t.c.slice(1, 0, -1), 'c[:, 0:-1]'],
  ['select(0, 1)', (t) => t.a.select(0, 1), 'a[1]'],
  ['select(-1, -1)', (t) => t.c.select(-1, -1), 'c[..., -1]'],
  ['flip([0])', (t) => t.a.flip([0]), 'a.flip(0)'],
  ['flip([0, 2])', (t) => t.c.flip([0, 2]), 'c.flip(0, 2)'],
  ['pad constant', (t) => torch.pad(t.img, [1, 2, 0, 1], 'constant', 0.5), 'F.pad(img, [1, 2, 0, 1], value=0.5)'],
  ['pad constant on 3 dims', (t) => torch.pad(t.c, [1, 0, 0, 1, 2, 0]), 'F.pad(c, [1, 0, 0, 1, 2, 0])'],
  ['pad reflect 2-d', (t) => torch.pad(t.img, [1, 1, 2, 2], 'reflect'), "F.pad(img, [1, 1, 2, 2], mode='reflect')"],
  ['pad replicate 2-d', (t) => torch.pad(t.img, [2, 1, 1, 0], 'replicate'), "F.pad(img, [2, 1, 1, 0], mode='replicate')"],
  ['pad reflect 1-d', (t) => torch.pad(t.c, [1, 2], 'reflect'), "F.pad(c, [1, 2], mode='reflect')"],
  ['pad replicate 1-d', (t) => torch.pad(t.c, [0, 3], 'replicate'), "F.pad(c, [0, 3], mode='replicate')"],
]);

const tables: Record<string, Case[]> = {
  'elementwise binary ops with broadcasting and scalars': binaryCases,
  'dtype promotion and bool comparison results': promotionCases,
  'powers, remainders, logic, rounding, matmul, softmax and cumsum': elementwiseCases,
  'unary float functions': unaryCases,
  'where and clamp with scalar and tensor bounds': whereClampCases,
  'in-place ops': inplaceCases,
  'reductions over dims with keepdim': [...reductionCases, ...extremumCases, ...argCases, ...logicalReductionCases],
  'vector norms p = 1, 2, inf': normCases,
  'sorting, indexing, joining and splitting': indexingCases,
  'shape ops and padding': shapeCases,
};

for (const [title, cases] of Object.entries(tables)) {
  test(`${title} match PyTorch`, () => checkTableAgainstPytorch(cases, inputs));
}

test('in-place ops return the very tensor they changed', () => {
  const x = torch.zeros([2]);
  const updates: ((t: Tensor) => Tensor)[] = [
    (t) => t.add_(1),
    (t) => t.sub_(1),
    (t) => t.mul_(2),
    (t) => t.div_(2),
    (t) => t.fill_(3),
    (t) => t.zero_(),
    (t) => t.clamp_(0, 1),
    (t) => t.copy_(torch.ones([2])),
    (t) => t.maximum_(0),
    (t) => t.minimum_(5),
    (t) => t.addcmul_(t, t),
    (t) => t.addcdiv_(t, torch.ones([2])),
    (t) => t.lerp_(torch.ones([2]), 0.5),
  ];
  for (const update of updates) assert.equal(update(x), x);
});

test('view ops share storage with their base; copies do not', () => {
  const shares = (derive: (t: Tensor) => Tensor, expected: boolean): void => {
    const base = torch.zeros([2, 3]);
    derive(base).fill_(1);
    assert.equal(base.sum().item() > 0, expected, derive.toString());
  };
  for (const f of [
    (t: Tensor) => t.view([6]),
    (t: Tensor) => t.transpose(0, 1),
    (t: Tensor) => t.select(0, 1),
    (t: Tensor) => t.narrow(1, 0, 2),
    (t: Tensor) => t.slice(1, 1),
    (t: Tensor) => t.unsqueeze(0),
    (t: Tensor) => t.permute([1, 0]),
  ]) {
    shares(f, true);
  }
  for (const f of [(t: Tensor) => t.clone(), (t: Tensor) => t.flip([0]), (t: Tensor) => t.repeat([1, 1]), (t: Tensor) => t.add(0)]) {
    shares(f, false);
  }
});

test('allclose follows rtol and atol', () => {
  const x = torch.tensor([1, 2, 3]);
  assert.equal(torch.allclose(x, x.add(1e-6)), true);
  assert.equal(torch.allclose(x, x.add(1e-3)), false);
  assert.equal(torch.allclose(x, x.add(1e-3), 0, 2e-3), true);
});
