// Module bookkeeping: registration order, modes, state dicts, devices, gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';

/** A small two-level net: a conv block (with BatchNorm) and a classifier. */
function smallNet(): nn.Sequential {
  return new nn.Sequential({
    features: new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ReLU()),
    flat: new nn.Flatten(),
    head: new nn.Linear(8, 3),
  });
}

test('names follow registration order, parameters before buffers, then children', () => {
  const net = smallNet();
  assert.deepEqual(Object.keys(net.stateDict()), [
    'features.0.weight',
    'features.0.bias',
    'features.1.weight',
    'features.1.bias',
    'features.1.running_mean',
    'features.1.running_var',
    'features.1.num_batches_tracked',
    'head.weight',
    'head.bias',
  ]);
  assert.deepEqual(
    net.namedParameters().map(([n]) => n),
    ['features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias', 'head.weight', 'head.bias'],
  );
  assert.deepEqual(
    net.namedBuffers().map(([n]) => n),
    ['features.1.running_mean', 'features.1.running_var', 'features.1.num_batches_tracked'],
  );
  assert.deepEqual(
    net.namedModules().map(([n]) => n),
    ['', 'features', 'features.0', 'features.1', 'features.2', 'flat', 'head'],
  );
  assert.deepEqual(
    net.namedChildren().map(([n]) => n),
    ['features', 'flat', 'head'],
  );
  assert.equal(net.children().length, 3);
  assert.equal(net.parameters().length, 6);
  assert.equal(net.buffers().length, 3);
  assert.equal(net.numParameters(), 2 * 9 + 2 + 2 + 2 + 3 * 8 + 3);
  assert.ok(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf));
});

test('Sequential: positional names, lookup by index and name, a Map keeps integer-like names in order', () => {
  const relu = new nn.ReLU();
  const seq = new nn.Sequential(new nn.Identity(), relu);
  assert.deepEqual(
    seq.namedChildren().map(([n]) => n),
    ['0', '1'],
  );
  assert.equal(seq.length, 2);
  assert.equal(seq.at(-1), relu);
  assert.equal(seq.get('1'), relu);
  assert.throws(() => seq.at(2), /index 2 out of range/);
  assert.throws(() => seq.get('x'), /no child named 'x'/);
  const fromMap = new nn.Sequential(
    new Map<string, nn.Module>([
      ['b', new nn.ReLU()],
      ['0', new nn.Linear(2, 2)],
    ]),
  );
  assert.deepEqual(Object.keys(fromMap.stateDict()), ['0.weight', '0.bias']);
  assert.deepEqual(
    fromMap.namedChildren().map(([n]) => n),
    ['b', '0'],
  );
});

test('train() and eval() switch the whole tree', () => {
  const net = smallNet();
  assert.ok(net.modules().every((m) => m.training));
  assert.equal(net.eval(), net);
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  net.train(false);
  assert.ok(net.modules().every((m) => !m.training));
});

test('state-dict round trip: another model reproduces the outputs; stateDict tensors share storage and are detached', () => {
  const a = smallNet().eval();
  const b = smallNet().eval();
  const x = torch.randn([2, 1, 4, 4]);
  assert.ok(!torch.allclose(a.forward(x), b.forward(x)));
  const result = b.loadStateDict(a.stateDict());
  assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
  assert.ok(torch.allclose(a.forward(x), b.forward(x)));

  const dict = a.stateDict();
  assert.ok(!dict['head.weight']!.requiresGrad);
  torch.noGrad(() => dict['head.bias']!.fill_(7));
  assert.deepEqual(a.parameters()[5]!.toNumbers(), [7, 7, 7]);
});

test('loadStateDict names missing keys, unexpected keys and shape mismatches, and changes nothing then', () => {
  const net = smallNet();
  const before = net.stateDict()['head.weight']!.clone();
  const dict = smallNet().stateDict();
  delete dict['features.1.running_var'];
  dict['extra.weight'] = torch.zeros([1]);
  dict['head.weight'] = torch.zeros([4, 8]);
  assert.throws(
    () => net.loadStateDict(dict),
    (err: Error) => {
      assert.match(err.message, /missing keys: features\.1\.running_var/);
      assert.match(err.message, /unexpected keys: extra\.weight/);
      assert.match(err.message, /size mismatch for head\.weight: expected shape \[3, 8\], found \[4, 8\]/);
      return true;
    },
  );
  assert.ok(torch.allclose(net.stateDict()['head.weight']!, before), 'a failed load must not copy anything');
});

test('loadStateDict refuses NaN and infinite weights, naming each tensor, and copies nothing then', () => {
  const net = smallNet();
  const before = net.stateDict()['head.weight']!.clone();
  const dict = smallNet().stateDict();
  const bad = dict['head.weight']!.clone();
  torch.noGrad(() => {
    bad.narrow(0, 0, 1).fill_(NaN);
    bad.narrow(0, 1, 1).narrow(1, 0, 2).fill_(-Infinity);
  });
  dict['head.weight'] = bad;
  dict['features.0.bias'] = torch.tensor([Infinity, 0]);
  assert.throws(
    () => net.loadStateDict(dict, { strict: false }),
    (err: Error) => {
      assert.match(err.message, /non-finite values in features\.0\.bias: 1 \+inf of 2 values/);
      assert.match(err.message, /non-finite values in head\.weight: 8 NaN, 2 -inf of 24 values/);
      return true;
    },
  );
  assert.ok(torch.allclose(net.stateDict()['head.weight']!, before), 'a refused load must not copy anything');
  // Integer tensors have no NaN to look for; finite floating values load.
  dict['head.weight'] = before;
  dict['features.0.bias'] = torch.tensor([1e30, -1e30]);
  dict['features.1.num_batches_tracked'] = torch.tensor(BigInt64Array.of(3n)).reshape([]);
  net.loadStateDict(dict);
  assert.equal(net.stateDict()['features.1.num_batches_tracked']!.item(), 3);
});

test('loadStateDict suggests the closest expected key for each unexpected one, and lists at most 20 of each kind', () => {
  const net = smallNet();
  const dict = Object.fromEntries(Object.entries(smallNet().stateDict()).map(([k, v]) => [k.replace(/^head\./, 'module.head.'), v]));
  dict['features.1.running_varr'] = dict['features.1.running_var']!;
  delete dict['features.1.running_var'];
  assert.throws(
    () => net.loadStateDict(dict),
    (err: Error) => {
      assert.match(err.message, /missing keys: features\.1\.running_var, head\.weight, head\.bias\n/);
      assert.match(
        err.message,
        /unexpected keys: module\.head\.weight \(did you mean head\.weight\?\), module\.head\.bias \(did you mean head\.bias\?\), features\.1\.running_varr \(did you mean features\.1\.running_var\?\)/,
      );
      return true;
    },
  );
  const flood: Record<string, Tensor> = { ...smallNet().stateDict() };
  for (let i = 0; i < 1000; i++) flood[`stray${i}`] = torch.zeros([1]);
  assert.throws(
    () => net.loadStateDict(flood),
    (err: Error) => /stray19 \(did you mean [^)]*\), \.\.\. and 980 more$/.test(err.message) && !err.message.includes('stray20'),
  );
});

test('loadStateDict with strict false skips missing and unexpected keys but still rejects shape mismatches', () => {
  const net = smallNet();
  const result = net.loadStateDict({ 'head.bias': torch.tensor([1, 2, 3]), stray: torch.zeros([2]) }, { strict: false });
  assert.deepEqual(net.stateDict()['head.bias']!.toNumbers(), [1, 2, 3]);
  assert.deepEqual(result.unexpectedKeys, ['stray']);
  assert.equal(result.missingKeys.length, 8);
  assert.throws(
    () => net.loadStateDict({ 'head.bias': torch.zeros([2]) }, { strict: false }),
    /size mismatch for head\.bias: expected shape \[3\], found \[2\]/,
  );
});

test('loadStateDict converts dtypes (float64 weights, float32 step counter) and keeps the module dtypes', () => {
  const net = smallNet();
  const dict: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(smallNet().stateDict())) dict[k] = v.to('float64');
  dict['features.1.num_batches_tracked'] = torch.tensor(5);
  net.loadStateDict(dict);
  const loaded = net.stateDict();
  assert.equal(loaded['head.weight']!.dtype, 'float32');
  assert.equal(loaded['features.1.num_batches_tracked']!.dtype, 'int64');
  assert.equal(loaded['features.1.num_batches_tracked']!.item(), 5);
  assert.ok(torch.allclose(loaded['head.weight']!.to('float64'), dict['head.weight']!, 1e-6, 1e-7));
});

test('parameters survive tidy scopes; gradients accumulate in .grad and zeroGrad clears them', () => {
  const net = torch.tidy(() => smallNet());
  const x = torch.randn([2, 1, 4, 4]);
  torch.tidy(() => net.forward(x).sum().backward());
  assert.ok(net.parameters().every((p) => !p.isDisposed && p.grad !== null));
  const head = net.parameters()[5]!;
  const first = head.grad!.toNumbers();
  torch.tidy(() => net.forward(x).sum().backward());
  assert.deepEqual(
    head.grad!.toNumbers(),
    first.map((g) => 2 * g),
  );
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  assert.ok(net.buffers().every((b) => !b.isDisposed));
});

test("to('cpu') keeps parameter identities, values and gradients", () => {
  const net = smallNet();
  const params = net.parameters();
  const values = params.map((p) => p.toNumbers());
  net
    .forward(torch.randn([2, 1, 4, 4]))
    .sum()
    .backward();
  assert.equal(net.to('cpu'), net);
  assert.deepEqual(net.parameters(), params);
  assert.deepEqual(
    params.map((p) => p.toNumbers()),
    values,
  );
  assert.ok(params.every((p) => p.device === 'cpu' && p.requiresGrad && p.grad !== null));
  assert.ok(net.buffers().every((b) => b.device === 'cpu'));
});

test('BatchNorm2d counts train-mode batches only and rejects non-4-d input', () => {
  const bn = new nn.BatchNorm2d(2);
  const x = torch.randn([3, 2, 2, 2]);
  bn.forward(x);
  bn.forward(x);
  bn.eval().forward(x);
  assert.equal(bn.numBatchesTracked!.item(), 2);
  assert.throws(() => bn.forward(torch.randn([3, 2])), /expected a 4-d input/);
});

test('registration rejects duplicate and dotted names', () => {
  class Twice extends nn.Module {
    constructor(name: string) {
      super();
      this.registerModule('a', new nn.ReLU());
      this.registerParameter(name, torch.zeros([1]));
    }
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(() => new Twice('a'), /'a' is already registered/);
  assert.throws(() => new Twice('a.b'), /invalid member name 'a\.b'/);
  assert.equal(new Twice('b').parameters().length, 1);
});

test('Normalize keeps its constants out of the state dict', () => {
  const norm = new nn.Normalize({ mean: [0.5, 0.25], std: [0.5, 0.25] });
  assert.deepEqual(Object.keys(norm.stateDict()), []);
  assert.deepEqual(
    norm.namedBuffers().map(([n]) => n),
    ['mean', 'std'],
  );
  const out = norm.forward(torch.ones([1, 2, 1, 1]));
  assert.deepEqual(out.toNumbers(), [1, 3]);
  assert.throws(() => new nn.Normalize({ mean: [0], std: [0] }), /std must be positive/);
});
