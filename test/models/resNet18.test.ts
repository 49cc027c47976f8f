import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import * as models from '../../src/models/index.js';
import { checkAgainstPytorch, randomizeBatchNorms, torchModule } from '../nn/moduleOracle.js';

torch.manualSeed(4);

test('resNet18 (D2R guidance, strides 1,1,2,2, pool 8) matches the reference in PyTorch', () => {
  const model = models.resNet18();
  randomizeBatchNorms(model);
  checkAgainstPytorch(model, { reference: torchModule('ResNet18'), input: torch.rand([2, 3, 32, 32]) });
});

test('resNet18 keeps layer2 at full resolution and projects shortcuts with conv + bn', () => {
  const model = models.resNet18({ numClasses: 100 });
  const sd = model.stateDict();
  assert.deepEqual(sd['layer2.0.conv1.weight']!.shape, [128, 64, 3, 3]);
  assert.deepEqual(sd['layer2.0.shortcut.0.weight']!.shape, [128, 64, 1, 1]);
  assert.deepEqual(sd['layer2.0.shortcut.1.running_var']!.shape, [128]);
  assert.deepEqual(sd['linear.weight']!.shape, [100, 512]);
  const layer2 = model.layers[1]!;
  assert.deepEqual(torch.noGrad(() => layer2.eval().forward(torch.rand([1, 64, 32, 32]))).shape, [1, 128, 32, 32]);
  assert.deepEqual(torch.noGrad(() => model.eval().forward(torch.rand([1, 3, 64, 64]))).shape, [1, 100]);
});
