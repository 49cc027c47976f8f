// Each layer against the same layer in PyTorch: layout, outputs, gradients, running stats.
import { test } from 'node:test';
import { Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import { checkAgainstPytorch, randomizeBatchNorms } from './moduleOracle.js';

torch.manualSeed(1);
const image = (c: number, side: number) => torch.randn([3, c, side, side]);

test('Linear matches PyTorch', () => {
  checkAgainstPytorch(new nn.Linear(7, 5), { python: 'model = nn.Linear(7, 5)', input: torch.randn([4, 7]) });
});

test('Linear without bias matches PyTorch', () => {
  checkAgainstPytorch(new nn.Linear(7, 5, { bias: false }), { python: 'model = nn.Linear(7, 5, bias=False)', input: torch.randn([4, 7]) });
});

test('Conv2d matches PyTorch', () => {
  checkAgainstPytorch(new nn.Conv2d(3, 4, 3), { python: 'model = nn.Conv2d(3, 4, 3)', input: image(3, 8) });
});

test('Conv2d with stride, padding, dilation, groups and no bias matches PyTorch', () => {
  const ours = new nn.Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 2], dilation: 2, groups: 2, bias: false });
  checkAgainstPytorch(ours, {
    python: 'model = nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False)',
    input: image(4, 9),
  });
});

test('BatchNorm2d matches PyTorch (eval with loaded statistics, train step updates them)', () => {
  const bn = new nn.BatchNorm2d(5);
  randomizeBatchNorms(bn);
  checkAgainstPytorch(bn, { python: 'model = nn.BatchNorm2d(5)', input: image(5, 4) });
});

test('BatchNorm2d with momentum null (cumulative average), custom eps, no affine matches PyTorch', () => {
  const bn = new nn.BatchNorm2d(3, { momentum: null, eps: 1e-3, affine: false });
  torch.noGrad(() => bn.numBatchesTracked!.fill_(3));
  randomizeBatchNorms(bn);
  checkAgainstPytorch(bn, { python: 'model = nn.BatchNorm2d(3, momentum=None, eps=1e-3, affine=False)', input: image(3, 4) });
});

test('BatchNorm2d without running statistics uses batch statistics in eval mode too, as PyTorch', () => {
  checkAgainstPytorch(new nn.BatchNorm2d(3, { trackRunningStats: false }), {
    python: 'model = nn.BatchNorm2d(3, track_running_stats=False)',
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
    return torch.cat(this.children().map((m) => m.forward(x).flatten(1)), 1);
  }
}

const PYTHON_BRANCHES = `
class Branches(nn.Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
    def forward(self, x):
        return torch.cat([m(x).flatten(1) for m in self.layers], 1)
`;

test('pooling, activation and reshaping layers match PyTorch', () => {
  const cases: [nn.Module, string][] = [
    [new nn.ReLU(), 'nn.ReLU()'],
    [new nn.MaxPool2d(2), 'nn.MaxPool2d(2)'],
    [new nn.MaxPool2d(3, { stride: 2, padding: 1 }), 'nn.MaxPool2d(3, stride=2, padding=1)'],
    [new nn.AvgPool2d(2), 'nn.AvgPool2d(2)'],
    [new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), 'nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)'],
    [new nn.AdaptiveAvgPool2d(1), 'nn.AdaptiveAvgPool2d(1)'],
    [new nn.AdaptiveAvgPool2d([3, 2]), 'nn.AdaptiveAvgPool2d((3, 2))'],
    [new nn.Flatten(), 'nn.Flatten()'],
    [new nn.Flatten(2, 3), 'nn.Flatten(2, 3)'],
    [new nn.Identity(), 'nn.Identity()'],
    [new nn.Dropout(0), 'nn.Dropout(0)'],
  ];
  checkAgainstPytorch(new Branches(cases.map(([m]) => m)), {
    python: `${PYTHON_BRANCHES}\nmodel = Branches(${cases.map(([, py]) => py).join(', ')})`,
    input: image(2, 7),
  });
});

test('Sequential of positional children matches PyTorch', () => {
  const ours = new nn.Sequential(new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(36, 3));
  randomizeBatchNorms(ours);
  checkAgainstPytorch(ours, {
    python: 'model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 3))',
    input: image(2, 6),
  });
});

test('Sequential of named children matches PyTorch', () => {
  const ours = new nn.Sequential({ conv: new nn.Conv2d(2, 3, 3), act: new nn.ReLU(), flat: new nn.Flatten(), fc: new nn.Linear(48, 2) });
  checkAgainstPytorch(ours, {
    python: "model = nn.Sequential(OrderedDict([('conv', nn.Conv2d(2, 3, 3)), ('act', nn.ReLU()), ('flat', nn.Flatten()), ('fc', nn.Linear(48, 2))]))",
    input: image(2, 6),
  });
});
