// Each layer against the same layer in PyTorch: layout, outputs, gradients, running stats.
import { test } from 'node:test';
import { type Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { checkAgainstPytorch, randomizeBatchNorms, torchModule, type ModuleSpec } from './moduleOracle.js';

torch.manualSeed(1);
const image = (c: number, side: number) => torch.randn([3, c, side, side]);

test('Linear matches PyTorch', () => {
  checkAgainstPytorch(new nn.Linear(7, 5), { reference: torchModule('Linear', [7, 5]), input: torch.randn([4, 7]) });
});

test('Linear without bias matches PyTorch', () => {
  checkAgainstPytorch(new nn.Linear(7, 5, { bias: false }), {
    reference: torchModule('Linear', [7, 5], { bias: false }),
    input: torch.randn([4, 7]),
  });
});

test('Conv2d matches PyTorch', () => {
  checkAgainstPytorch(new nn.Conv2d(3, 4, 3), { reference: torchModule('Conv2d', [3, 4, 3]), input: image(3, 8) });
});

test('Conv2d with stride, padding, dilation, groups and no bias matches PyTorch', () => {
  const ours = new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: 2, groups: 2, bias: false });
  checkAgainstPytorch(ours, {
    reference: torchModule('Conv2d', [4, 6, [3, 2]], { stride: [2, 1], padding: [1, 2], dilation: 2, groups: 2, bias: false }),
    input: image(4, 9),
  });
});

test('BatchNorm2d matches PyTorch (eval with loaded statistics, train step updates them)', () => {
  const bn = new nn.BatchNorm2d(5);
  randomizeBatchNorms(bn);
  checkAgainstPytorch(bn, { reference: torchModule('BatchNorm2d', [5]), input: image(5, 4) });
});

test('BatchNorm2d with momentum null (cumulative average), custom eps, no affine matches PyTorch', () => {
  const bn = new nn.BatchNorm2d(3, { momentum: null, eps: 1e-3, affine: false });
  torch.noGrad(() => bn.numBatchesTracked!.fill_(3));
  randomizeBatchNorms(bn);
  checkAgainstPytorch(bn, { reference: torchModule('BatchNorm2d', [3], { momentum: null, eps: 1e-3, affine: false }), input: image(3, 4) });
});

test('BatchNorm2d without running statistics uses batch statistics in eval mode too, as PyTorch', () => {
  checkAgainstPytorch(new nn.BatchNorm2d(3, { trackRunningStats: false }), {
    reference: torchModule('BatchNorm2d', [3], { track_running_stats: false }),
    input: image(3, 4),
  });
});

/** Applies each layer to the same input and concatenates the flattened outputs, so one PyTorch run checks them all. */
class Branches extends nn.Module {
  constructor(layers: nn.Module[]) {
    super();
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    return torch.cat(
      this.children().map((m) => m.forward(x).flatten(1)),
      1,
    );
  }
}

test('pooling, activation and reshaping layers match PyTorch', () => {
  const cases: [nn.Module, ModuleSpec][] = [
    [new nn.ReLU(), torchModule('ReLU')],
    [new nn.MaxPool2d(2), torchModule('MaxPool2d', [2])],
    [new nn.MaxPool2d(3, { stride: 2, padding: 1 }), torchModule('MaxPool2d', [3], { stride: 2, padding: 1 })],
    [new nn.AvgPool2d(2), torchModule('AvgPool2d', [2])],
    [
      new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
      torchModule('AvgPool2d', [3], { stride: 2, padding: 1, count_include_pad: false }),
    ],
    [new nn.AdaptiveAvgPool2d(1), torchModule('AdaptiveAvgPool2d', [1])],
    [new nn.AdaptiveAvgPool2d([3, 2]), torchModule('AdaptiveAvgPool2d', [[3, 2]])],
    [new nn.Flatten(), torchModule('Flatten')],
    [new nn.Flatten(2, 3), torchModule('Flatten', [2, 3])],
    [new nn.Identity(), torchModule('Identity')],
    [new nn.Dropout(0), torchModule('Dropout', [0])],
  ];
  checkAgainstPytorch(new Branches(cases.map(([m]) => m)), {
    reference: { type: 'Branches', children: cases.map(([, spec]) => spec) },
    input: image(2, 7),
  });
});

test('Sequential of positional children matches PyTorch', () => {
  const ours = new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(36, 3),
  );
  randomizeBatchNorms(ours);
  checkAgainstPytorch(ours, {
    reference: {
      type: 'Sequential',
      children: [
        torchModule('Conv2d', [2, 4, 3], { padding: 1 }),
        torchModule('BatchNorm2d', [4]),
        torchModule('ReLU'),
        torchModule('MaxPool2d', [2]),
        torchModule('Flatten'),
        torchModule('Linear', [36, 3]),
      ],
    },
    input: image(2, 6),
  });
});

test('Sequential of named children matches PyTorch', () => {
  const ours = new nn.Sequential({ conv: new nn.Conv2d(2, 3, 3), act: new nn.ReLU(), flat: new nn.Flatten(), fc: new nn.Linear(48, 2) });
  checkAgainstPytorch(ours, {
    reference: {
      type: 'Sequential',
      children: {
        conv: torchModule('Conv2d', [2, 3, 3]),
        act: torchModule('ReLU'),
        flat: torchModule('Flatten'),
        fc: torchModule('Linear', [48, 2]),
      },
    },
    input: image(2, 6),
  });
});
