// Modules written PyTorch-style: submodules and parameters assigned as fields are
// registered under the field's name, in assignment order, as PyTorch's __setattr__ does
// (their PyTorch twins are in test/oracles/reference_models.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { checkAgainstPytorch, torchModule } from './moduleOracle.js';

class FieldNet extends nn.Module {
  conv = new nn.Conv2d(1, 2, 3);
  bn = new nn.BatchNorm2d(2);
  fc1 = new nn.Linear(8, 4);
  scale = new nn.Parameter(torch.rand([4]).add(0.5));
  fc2 = new nn.Linear(4, 3);

  forward(x: Tensor): Tensor {
    const h = this.bn.forward(this.conv.forward(x)).relu().flatten(1);
    return this.fc2.forward(this.fc1.forward(h).mul(this.scale).relu());
  }
}

test('modules and parameters assigned as class fields are registered with PyTorch names, order and results', () => {
  const net = new FieldNet();
  assert.equal(net.parameters().length, 9);
  assert.deepEqual(
    net.namedChildren().map(([name]) => name),
    ['conv', 'bn', 'fc1', 'fc2'],
  );
  checkAgainstPytorch(net, { reference: torchModule('FieldNet'), input: torch.randn([2, 1, 4, 4]) });
});

/** Fields, explicit registrations and constructor assignments interleaved. */
class Mixed extends nn.Module {
  first = new nn.Linear(3, 3);
  readonly second: nn.Linear;
  readonly third: nn.Linear;
  readonly layers: nn.Sequential;

  constructor() {
    super();
    this.second = this.registerModule('second', new nn.Linear(3, 3));
    this.third = new nn.Linear(3, 3);
    this.registerBuffer('offset', torch.zeros([2]));
    this.layers = new nn.Sequential(new nn.Linear(3, 2), new nn.ReLU());
  }

  forward(x: Tensor): Tensor {
    return this.layers.forward(this.third.forward(this.second.forward(this.first.forward(x))));
  }
}

test('fields and explicit registrations interleave in assignment order, as in PyTorch', () => {
  const net = new Mixed();
  assert.deepEqual(Object.keys(net.stateDict()), [
    'offset',
    'first.weight',
    'first.bias',
    'second.weight',
    'second.bias',
    'third.weight',
    'third.bias',
    'layers.0.weight',
    'layers.0.bias',
  ]);
  checkAgainstPytorch(net, { reference: torchModule('Mixed'), input: torch.randn([4, 3]) });
});

test('a field holding a registered member is not registered twice; a reassigned field replaces its member in place', () => {
  class Aliased extends nn.Module {
    readonly head: nn.Linear;
    body = new nn.Linear(2, 2);
    constructor() {
      super();
      this.head = this.registerModule('classifier', new nn.Linear(2, 1));
    }
    forward(x: Tensor): Tensor {
      return this.head.forward(this.body.forward(x));
    }
  }
  const net = new Aliased();
  assert.deepEqual(
    net.namedChildren().map(([name]) => name),
    ['body', 'classifier'],
  );
  const replacement = new nn.Linear(2, 2);
  net.body = replacement;
  assert.deepEqual(
    net.namedChildren().map(([name, m]) => [name, m === replacement]),
    [
      ['body', true],
      ['classifier', false],
    ],
  );
  assert.equal(net.parameters().length, 4);
});

test('modules or parameters in an array, Map or object field are refused loudly, unless registered', () => {
  class Listed extends nn.Module {
    blocks = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
    forward(x: Tensor): Tensor {
      return this.blocks.reduce((h, m) => m.forward(h), x);
    }
  }
  const net = new Listed();
  assert.throws(
    () => net.parameters(),
    /Listed: field 'blocks' holds an array of modules that are not registered.*assign new Sequential\(\.\.\.\) instead/,
  );
  class Keyed extends nn.Module {
    heads = new Map([['a', new nn.Linear(2, 2)]]);
    weights = { w: new nn.Parameter(torch.zeros([1])) };
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(() => new Keyed().stateDict(), /Keyed: field 'heads' holds a collection of modules/);
  class Weights extends nn.Module {
    weights = [new nn.Parameter(torch.zeros([1]))];
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(
    () => new Weights().parameters(),
    /Weights: field 'weights' holds an array of parameters that are not registered.*registerParameter/,
  );
  // The bundled models keep arrays of registered stages: that is fine.
  class Staged extends nn.Module {
    readonly stages: nn.Module[];
    constructor() {
      super();
      const inner = new nn.Linear(2, 2);
      this.stages = [this.registerModule('a', new nn.Linear(2, 2)), inner];
      this.registerModule('b', new nn.Sequential(inner));
    }
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.deepEqual(Object.keys(new Staged().stateDict()), ['a.weight', 'a.bias', 'b.0.weight', 'b.0.bias']);
  class Tied extends nn.Module {
    fc = new nn.Linear(2, 2);
    tied = [this.fc.weight];
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.deepEqual(new Tied().parameters().length, 2);
});

test('a field with the name of another kind of member is an error', () => {
  class Clash extends nn.Module {
    constructor() {
      super();
      this.registerBuffer('scale', torch.ones([1]));
      (this as unknown as { scale: nn.Module }).scale = new nn.ReLU();
    }
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(() => new Clash().children(), /Clash: 'scale' is already registered/);
});
