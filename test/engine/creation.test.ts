// Creating tensors and reading them back: nested arrays and typed arrays in
// every dtype, factories, *Like, conversions, copies, and the errors users hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor, DType } from '../../src/index.js';
import { makeInputs, checkTableAgainstPytorch, rows } from './support.js';

const nested = [
  [1, 0, 3],
  [4, 5, 0],
];
const readbacks: [DType, new (values: number[]) => ArrayLike<number | bigint>, number[]][] = [
  ['float32', Float32Array, [1, 0, 3, 4, 5, 0]],
  ['float64', Float64Array, [1, 0, 3, 4, 5, 0]],
  ['int64', BigInt64Array, [1, 0, 3, 4, 5, 0]],
  ['int32', Int32Array, [1, 0, 3, 4, 5, 0]],
  ['uint8', Uint8Array, [1, 0, 3, 4, 5, 0]],
  ['bool', Uint8Array, [1, 0, 1, 1, 1, 0]],
];

test('nested arrays become tensors of every dtype and read back as typed arrays, numbers and nested arrays', () => {
  for (const [dtype, ArrayType, values] of readbacks) {
    const t = torch.tensor(nested, { dtype });
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, [2, 3]);
    assert.ok(t.data() instanceof (ArrayType as typeof Uint8Array), `${dtype}: data() is a ${ArrayType.name}`);
    assert.deepEqual(t.toNumbers(), values, dtype);
    assert.deepEqual(t.toArray(), [values.slice(0, 3), values.slice(3)], dtype);
  }
  assert.equal(torch.tensor(nested).dtype, 'float32', 'numbers default to float32');
  assert.deepEqual(torch.tensor([[true, false]], { dtype: 'bool' }).toArray(), [[1, 0]]);
  assert.deepEqual(torch.tensor(2.5).shape, [], 'a number makes a 0-d tensor');
  assert.equal(torch.tensor(2.5).toArray(), 2.5);
});

test('typed arrays keep their dtype, take a shape, and convert on request', () => {
  const sources: [ArrayBufferView, DType][] = [
    [new Float32Array([1.5, -2, 3, 4]), 'float32'],
    [new Float64Array([1.5, -2, 3, 4]), 'float64'],
    [new BigInt64Array([1n, -2n, 3n, 2n ** 40n]), 'int64'],
    [new Int32Array([1, -2, 3, 4]), 'int32'],
    [new Uint8Array([1, 0, 255, 4]), 'uint8'],
  ];
  for (const [source, dtype] of sources) {
    const flat = torch.tensor(source as Float32Array);
    assert.equal(flat.dtype, dtype);
    assert.deepEqual(flat.shape, [4]);
    assert.deepEqual(flat.toNumbers(), Array.from(source as unknown as ArrayLike<number | bigint>, Number));
    assert.deepEqual(torch.tensor(source as Float32Array, [2, 2]).shape, [2, 2]);
    assert.equal(torch.tensor(source as Float32Array, { dtype: 'float64' }).dtype, 'float64');
  }
  const bools = torch.tensor(new Uint8Array([0, 2, 1]), { dtype: 'bool' });
  assert.deepEqual([bools.dtype, bools.toNumbers()], ['bool', [0, 1, 1]]);
  const view = new Float32Array([9, 1, 2, 3, 9]).subarray(1, 4);
  assert.deepEqual(torch.tensor(view).toNumbers(), [1, 2, 3], 'a subarray reads from its own offset');
});

test('factories, ranges and *Like match PyTorch (values and dtypes)', () => {
  const t = makeInputs(3);
  checkTableAgainstPytorch(
    rows([
      ['zeros', () => torch.zeros([2, 3]), 'torch.zeros(2, 3)'],
      ['ones int32', () => torch.ones([2], { dtype: 'int32' }), 'torch.ones(2, dtype=torch.int32)'],
      ['full float64', () => torch.full([2, 2], 0.1, { dtype: 'float64' }), 'torch.full((2, 2), 0.1, dtype=torch.float64)'],
      ['full bool', () => torch.full([3], true, { dtype: 'bool' }), 'torch.full((3,), True)'],
      ['arange(5) is int64', () => torch.arange(5), 'torch.arange(5)'],
      ['arange(2, 11, 3)', () => torch.arange(2, 11, 3), 'torch.arange(2, 11, 3)'],
      ['arange(10, 0, -3)', () => torch.arange(10, 0, -3), 'torch.arange(10, 0, -3)'],
      ['arange(0, 1, 0.1) float32', () => torch.arange(0, 1, 0.1), 'torch.arange(0, 1, 0.1)'],
      ['arange(1, 2.05, 0.25) float32', () => torch.arange(1, 2.05, 0.25), 'torch.arange(1, 2.05, 0.25)'],
      ['arange float64', () => torch.arange(0, 3, 1, { dtype: 'float64' }), 'torch.arange(0, 3, 1, dtype=torch.float64)'],
      ['eye', () => torch.eye(3), 'torch.eye(3)'],
      ['zerosLike keeps dtype', (t) => torch.zerosLike(t.ia), 'torch.zeros_like(ia)'],
      ['onesLike with dtype', (t) => torch.onesLike(t.a, { dtype: 'float64' }), 'torch.ones_like(a, dtype=torch.float64)'],
      ['fullLike', (t) => torch.fullLike(t.c, -1.5), 'torch.full_like(c, -1.5)'],
      [
        'float to int64 truncates toward zero',
        () => torch.tensor([-1.7, -0.2, 0.9, 2.5]).to('int64'),
        'torch.tensor([-1.7, -0.2, 0.9, 2.5]).long()',
      ],
      ['float to bool', () => torch.tensor([0, -0.5, 2]).to('bool'), 'torch.tensor([0, -0.5, 2]).bool()'],
      [
        'int64 to uint8 wraps',
        () => torch.tensor([-1, 256, 3], { dtype: 'int64' }).to('uint8'),
        'torch.tensor([-1, 256, 3]).to(torch.uint8)',
      ],
      ['bool to float', (t) => t.m.float(), 'm.float()'],
      ['float32 to float64 and back', (t) => t.a.double().float(), 'a.double().float()'],
      ['long() and bool() helpers', (t) => [t.a.mul(3).long(), t.a.bool()], '[(a * 3).long(), a.bool()]'],
    ]),
    t,
  );
});

test('random factories draw from the right ranges and dtypes', () => {
  torch.manualSeed(12);
  const n = 100_000;
  const u = torch.rand([n]).toNumbers();
  assert.ok(Math.min(...u) >= 0 && Math.max(...u) < 1);
  assert.ok(Math.abs(u.reduce((s, v) => s + v, 0) / n - 0.5) < 0.01);
  const z = torch.randn([n], { dtype: 'float64' });
  assert.equal(z.dtype, 'float64');
  assert.ok(Math.abs(z.mean().item()) < 0.02 && Math.abs(z.std().item() - 1) < 0.02);
  const ints = torch.randint(-3, 4, [n]);
  assert.equal(ints.dtype, 'int64');
  assert.deepEqual(
    [...new Set(ints.toNumbers())].sort((a, b) => a - b),
    [-3, -2, -1, 0, 1, 2, 3],
  );
  assert.equal(torch.randint(0, 5, [3], { dtype: 'int32' }).dtype, 'int32');
  const perm = torch.randperm(50);
  assert.equal(perm.dtype, 'int64');
  assert.deepEqual(
    [...perm.toNumbers()].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.notDeepEqual(
    perm.toNumbers(),
    Array.from({ length: 50 }, (_, i) => i),
  );
  const like = torch.randLike(torch.zeros([2, 3], { dtype: 'float64' }));
  assert.deepEqual([like.shape, like.dtype], [[2, 3], 'float64']);
  assert.deepEqual(torch.randnLike(torch.zeros([4])).shape, [4]);
  const ri = torch.randintLike(torch.zeros([5], { dtype: 'int64' }), 7, 9).toNumbers();
  assert.ok(ri.every((v) => v === 7 || v === 8));
});

test('item, clone, detach and contiguous', () => {
  assert.equal(torch.tensor([[4.5]]).item(), 4.5);
  assert.equal(torch.tensor([7], { dtype: 'int64' }).item(), 7);
  assert.equal(torch.tensor([true], { dtype: 'bool' }).item(), 1);
  const x = torch.tensor([1, 2, 3]);
  const copy = x.clone();
  copy.fill_(0);
  assert.deepEqual(x.toNumbers(), [1, 2, 3], 'a clone owns its data');
  const detached = x.detach();
  detached.fill_(5);
  assert.deepEqual(x.toNumbers(), [5, 5, 5], 'detach shares storage, as in PyTorch');
  const t = torch.arange(6).reshape([2, 3]).transpose(0, 1);
  assert.equal(t.isContiguous(), false);
  const c = t.contiguous();
  assert.equal(c.isContiguous(), true);
  assert.deepEqual(c.toArray(), [
    [0, 3],
    [1, 4],
    [2, 5],
  ]);
  assert.deepEqual(
    t.toArray(),
    [
      [0, 3],
      [1, 4],
      [2, 5],
    ],
    'a non-contiguous tensor reads back in logical order',
  );
  assert.equal(torch.zeros([1]).device, 'cpu');
});

test('errors: wrong data size, view of a non-contiguous tensor, disposed tensors, item() of many', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['data does not fill the shape', () => torch.tensor([1, 2, 3], [2, 2]), /shape \[2, 2\] holds 4 values but 3 were given/],
    ['typed array does not fill the shape', () => torch.tensor(new Float32Array(5), [2, 2]), /holds 4 values but 5 were given/],
    ['negative shape', () => torch.zeros([2, -1]), /non-negative integers/],
    ['view of a transposed tensor', () => torch.zeros([2, 3]).transpose(0, 1).view([6]), /view size is not compatible.*reshape/s],
    ['item() of a 3-element tensor', () => torch.tensor([1, 2, 3]).item(), /has 3 elements; only a one-element tensor/],
    [
      'incompatible broadcast',
      () => torch.zeros([2, 3]).add(torch.zeros([4])),
      /size of tensor a \(3\) must match the size of tensor b \(4\)/,
    ],
    ['unknown dtype', () => torch.zeros([1], { dtype: 'float17' as DType }), /unknown dtype 'float17'/],
  ];
  for (const [what, fn, message] of cases) assert.throws(fn, message, what);
});

test('using a disposed tensor fails with a message that says so', () => {
  const uses: [string, (t: Tensor) => unknown][] = [
    ['as the receiver', (t) => t.add(1)],
    ['as an operand', (t) => torch.ones([2]).mul(t)],
    ['in a list', (t) => torch.cat([torch.ones([2]), t])],
    ['reading data', (t) => t.toNumbers()],
    ['reading the shape of a fresh handle', (t) => t.shape],
  ];
  for (const [what, use] of uses) {
    const t = torch.ones([2]);
    t.dispose();
    assert.equal(t.isDisposed, true);
    assert.throws(() => use(t), /disposed/, what);
  }
  const twice = torch.ones([1]);
  twice.dispose();
  assert.doesNotThrow(() => twice.dispose(), 'dispose is idempotent');
});
