import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import * as models from '../../src/models/index.js';
import { checkAgainstPytorch, randomizeBatchNorms, torchModule } from '../nn/moduleOracle.js';

torch.manualSeed(3);

test('preActResNet18 (CIFAR 32x32) matches the reference PreActResNet18 in PyTorch', () => {
  const model = models.preActResNet18();
  randomizeBatchNorms(model);
  checkAgainstPytorch(model, { reference: torchModule('PreActResNet18'), input: torch.rand([2, 3, 32, 32]) });
});

test('preActResNet18 on 1x28x28 with 7 classes matches PyTorch', () => {
  const model = models.preActResNet18({ inChannels: 1, numClasses: 7 });
  randomizeBatchNorms(model);
  checkAgainstPytorch(model, {
    reference: torchModule('PreActResNet18', [], { num_classes: 7, in_channels: 1 }),
    input: torch.rand([2, 1, 28, 28]),
  });
});

test('preActResNet18 averages the whole final map for larger inputs', () => {
  const model = models.preActResNet18({ numClasses: 200 }).eval();
  const out = torch.noGrad(() => model.forward(torch.rand([1, 3, 64, 64])));
  assert.deepEqual(out.shape, [1, 200]);
  assert.deepEqual(model.stateDict()['layer2.0.shortcut.0.weight']!.shape, [128, 64, 1, 1]);
  assert.ok(!('layer1.0.shortcut.0.weight' in model.stateDict()), 'no projection where the shape is kept');
});
