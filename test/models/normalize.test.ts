// Input normalisation inside the models: same outputs as normalising outside, same state-dict keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import * as models from '../../src/models/index.js';

const cifar = { mean: [0.4914, 0.4822, 0.4465], std: [0.2471, 0.2435, 0.2616] };

test('a model with normalize equals the plain model on normalised input and keeps PyTorch keys', () => {
  torch.manualSeed(6);
  const plain = models.wideResNet({ depth: 10, widenFactor: 1 }).eval();
  const normalized = models.wideResNet({ depth: 10, widenFactor: 1, normalize: cifar }).eval();
  assert.deepEqual(Object.keys(normalized.stateDict()), Object.keys(plain.stateDict()));
  normalized.loadStateDict(plain.stateDict());
  const x = torch.rand([2, 3, 32, 32]);
  const mean = torch.tensor(cifar.mean, [1, 3, 1, 1]);
  const std = torch.tensor(cifar.std, [1, 3, 1, 1]);
  const expected = plain.forward(x.sub(mean).div(std));
  assert.ok(torch.allclose(normalized.forward(x), expected, 1e-5, 1e-5));
  assert.ok(!torch.allclose(plain.forward(x), expected, 1e-3, 1e-3), 'normalisation changes the output');
  assert.deepEqual(
    normalized
      .namedBuffers()
      .slice(0, 2)
      .map(([n]) => n),
    ['normalize.mean', 'normalize.std'],
  );
});

test('normalize must have one value per input channel; gradients reach the input through it', () => {
  assert.throws(() => models.smallCnn({ normalize: cifar }), /3 channel values but the model takes 1 channels/);
  const model = models.smallCnn({ normalize: { mean: [0.1307], std: [0.3081] } }).eval();
  const x = torch.rand([1, 1, 28, 28]).requiresGrad_();
  const fc3 = model.classifier.get('fc3').parameters()[0]!;
  torch.noGrad(() => fc3.fill_(0.01));
  model.forward(x).sum().backward();
  assert.ok(x.grad !== null && x.grad.abs().sum().item() > 0);
});
