// Neural-network functionals against PyTorch: convolution, linear, batch norm
// (train updates the running statistics, eval uses them), pooling, dropout, losses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { makeInputs, checkTableAgainstPytorch, rows, type Row } from './support.js';

const inputs = makeInputs(11);

const convCases = rows([
  ['conv2d with bias', (t) => torch.conv2d(t.img, t.kw, t.kb), 'F.conv2d(img, kw, kb)'],
  [
    'conv2d stride 2 padding 1',
    (t) => torch.conv2d(t.img, t.kw, null, { stride: 2, padding: 1 }),
    'F.conv2d(img, kw, None, stride=2, padding=1)',
  ],
  [
    'conv2d stride [1, 2] padding [1, 0]',
    (t) => torch.conv2d(t.img, t.kw, t.kb, { stride: [1, 2], padding: [1, 0] }),
    'F.conv2d(img, kw, kb, stride=(1, 2), padding=(1, 0))',
  ],
  [
    'conv2d dilation 2',
    (t) => torch.conv2d(t.img, t.kw, null, { dilation: 2, padding: 2 }),
    'F.conv2d(img, kw, None, dilation=2, padding=2)',
  ],
  ['conv2d groups 2', (t) => torch.conv2d(t.img, t.kg, null, { groups: 2, padding: 1 }), 'F.conv2d(img, kg, None, padding=1, groups=2)'],
  [
    'conv2d depthwise (groups = channels)',
    (t) => torch.conv2d(t.img, t.kg.narrow(1, 0, 1), null, { groups: 4 }),
    'F.conv2d(img, kg[:, 0:1], None, groups=4)',
  ],
  ['linear with bias', (t) => torch.linear(t.a, t.lw, t.lb), 'F.linear(a, lw, lb)'],
  ['linear without bias', (t) => torch.linear(t.a, t.lw), 'F.linear(a, lw)'],
  ['linear on a 3-d input', (t) => torch.linear(t.c, t.lw, t.lb), 'F.linear(c, lw, lb)'],
]);

const normCases = rows([
  ...[0.1, 0.3].map((momentum): Row => [
    `batchNorm train (momentum ${momentum}) output and updated running stats`,
    (t) => {
      const [runningMean, runningVar] = [t.runMean.clone(), t.runVar.clone()];
      const y = torch.batchNorm(t.img, runningMean, runningVar, { training: true, momentum, weight: t.bnW, bias: t.bnB });
      return [y, runningMean, runningVar];
    },
    `bn_train(img, runMean, runVar, bnW, bnB, ${momentum})`,
  ]),
  [
    'batchNorm train without running stats or affine',
    (t) => torch.batchNorm(t.img, null, null, { training: true }),
    'F.batch_norm(img, None, None, training=True)',
  ],
  [
    'batchNorm train eps 0.1',
    (t) => torch.batchNorm(t.img, null, null, { training: true, eps: 0.1 }),
    'F.batch_norm(img, None, None, training=True, eps=0.1)',
  ],
  [
    'batchNorm eval uses running stats',
    (t) => torch.batchNorm(t.img, t.runMean, t.runVar, { weight: t.bnW, bias: t.bnB }),
    'F.batch_norm(img, runMean, runVar, bnW, bnB, training=False)',
  ],
  [
    'batchNorm on 2-d input',
    (t) => torch.batchNorm(t.a.transpose(0, 1), null, null, { training: true }),
    'F.batch_norm(a.t(), None, None, training=True)',
  ],
]);

const poolCases = rows([
  ['maxPool2d(2)', (t) => torch.maxPool2d(t.img, 2), 'F.max_pool2d(img, 2)'],
  ['maxPool2d(3, stride 2, padding 1)', (t) => torch.maxPool2d(t.img, 3, { stride: 2, padding: 1 }), 'F.max_pool2d(img, 3, 2, 1)'],
  [
    'maxPool2d([2, 3], ceilMode)',
    (t) => torch.maxPool2d(t.img, [2, 3], { stride: [2, 2], ceilMode: true }),
    'F.max_pool2d(img, (2, 3), (2, 2), ceil_mode=True)',
  ],
  ['avgPool2d(2)', (t) => torch.avgPool2d(t.img, 2), 'F.avg_pool2d(img, 2)'],
  [
    'avgPool2d(3, stride 2, padding 1) counting pad',
    (t) => torch.avgPool2d(t.img, 3, { stride: 2, padding: 1 }),
    'F.avg_pool2d(img, 3, 2, 1)',
  ],
  [
    'avgPool2d(3, stride 2, padding 1) excluding pad',
    (t) => torch.avgPool2d(t.img, 3, { stride: 2, padding: 1, countIncludePad: false }),
    'F.avg_pool2d(img, 3, 2, 1, count_include_pad=False)',
  ],
  ['adaptiveAvgPool2d(1)', (t) => torch.adaptiveAvgPool2d(t.img, 1), 'F.adaptive_avg_pool2d(img, 1)'],
  ['adaptiveAvgPool2d([3, 2])', (t) => torch.adaptiveAvgPool2d(t.img, [3, 2]), 'F.adaptive_avg_pool2d(img, (3, 2))'],
  ['adaptiveAvgPool2d(4) uneven windows', (t) => torch.adaptiveAvgPool2d(t.img, 4), 'F.adaptive_avg_pool2d(img, 4)'],
  ['dropout p = 0 in training is the identity', (t) => torch.dropout(t.img, 0, true), 'F.dropout(img, 0.0, True)'],
  ['dropout in eval is the identity', (t) => torch.dropout(t.img, 0.5, false), 'F.dropout(img, 0.5, False)'],
]);

const reductions = ['none', 'mean', 'sum'] as const;
const lossCases = rows([
  ...reductions.flatMap((reduction) =>
    [0, 0.2].map((labelSmoothing): Row => [
      `crossEntropy ${reduction} smoothing ${labelSmoothing}`,
      (t) => torch.crossEntropy(t.logits, t.target, { reduction, labelSmoothing }),
      `F.cross_entropy(logits, target, reduction='${reduction}', label_smoothing=${labelSmoothing})`,
    ]),
  ),
  ...reductions.flatMap((reduction): Row[] => [
    [
      `nllLoss ${reduction}`,
      (t) => torch.nllLoss(t.logits.logSoftmax(1), t.target, { reduction }),
      `F.nll_loss(logits.log_softmax(1), target, reduction='${reduction}')`,
    ],
    [`mseLoss ${reduction}`, (t) => torch.mseLoss(t.a, t.b, { reduction }), `F.mse_loss(a, b, reduction='${reduction}')`],
  ]),
  ...(['none', 'mean', 'sum', 'batchmean'] as const).flatMap((reduction) =>
    [false, true].map((logTarget): Row => [
      `klDiv ${reduction}${logTarget ? ' logTarget' : ''}`,
      (t) => torch.klDiv(t.logits.logSoftmax(1), logTarget ? t.probs.log() : t.probs, { reduction, logTarget }),
      `F.kl_div(logits.log_softmax(1), ${logTarget ? 'probs.log()' : 'probs'}, reduction='${reduction}', log_target=${logTarget ? 'True' : 'False'})`,
    ]),
  ),
  ['crossEntropy on [N, C, H, W] logits', (t) => torch.crossEntropy(t.img, t.img.argmax(1)), 'F.cross_entropy(img, img.argmax(1))'],
]);

test('convolution and linear match PyTorch', () => checkTableAgainstPytorch(convCases, inputs));
test('batch norm in train and eval mode matches PyTorch, running stats included', () => checkTableAgainstPytorch(normCases, inputs));
test('pooling and dropout identities match PyTorch', () => checkTableAgainstPytorch(poolCases, inputs));
test('losses match PyTorch for every reduction', () => checkTableAgainstPytorch(lossCases, inputs));

test('batch norm in train mode moves the running stats by momentum towards the batch stats', () => {
  const x = torch.tensor([
    [1, 10],
    [3, 14],
  ]);
  const runningMean = torch.zeros([2]);
  const runningVar = torch.ones([2]);
  torch.batchNorm(x, runningMean, runningVar, { training: true, momentum: 0.5 });
  // batch means [2, 12]; unbiased variances [2, 8]
  assert.deepEqual(runningMean.toNumbers(), [1, 6]);
  assert.deepEqual(runningVar.toNumbers(), [1.5, 4.5]);
  torch.batchNorm(x, runningMean, runningVar, { training: false, momentum: 0.5 });
  assert.deepEqual(runningMean.toNumbers(), [1, 6], 'eval mode leaves the running stats alone');
});

test('dropout in training zeroes a fraction p and scales survivors by 1 / (1 - p)', () => {
  torch.manualSeed(5);
  const n = 200_000;
  for (const p of [0.1, 0.5, 0.8]) {
    const y = torch.tidy(() => torch.dropout(torch.ones([n]), p, true).toNumbers());
    const zeros = y.filter((v) => v === 0).length / n;
    const survivors = new Set(y.filter((v) => v !== 0).map((v) => Math.fround(v)));
    assert.ok(Math.abs(zeros - p) < 0.005, `p=${p}: zero fraction ${zeros}`);
    assert.deepEqual([...survivors], [Math.fround(1 / (1 - p))], `p=${p}: survivors ${[...survivors]}`);
    const mean = y.reduce((s, v) => s + v, 0) / n;
    assert.ok(Math.abs(mean - 1) < 0.01, `p=${p}: mean ${mean} should stay near 1`);
  }
  assert.deepEqual(torch.dropout(torch.ones([5]), 1, true).toNumbers(), [0, 0, 0, 0, 0]);
  assert.throws(() => torch.dropout(torch.ones([2]), 1.5), /p must be in \[0, 1\]/);
});

test('crossEntropy mean equals the mean of the per-sample losses, and smoothing raises a confident loss', () => {
  const logits = torch.tensor([
    [8, 0, 0],
    [0, 8, 0],
  ]);
  const target = torch.tensor([0, 1], { dtype: 'int64' });
  const perSample: Tensor = torch.crossEntropy(logits, target, { reduction: 'none' });
  assert.ok(Math.abs(perSample.mean().item() - torch.crossEntropy(logits, target).item()) < 1e-7);
  assert.ok(torch.crossEntropy(logits, target, { labelSmoothing: 0.1 }).item() > torch.crossEntropy(logits, target).item());
});
