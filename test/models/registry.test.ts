import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import * as models from '../../src/models/index.js';

const spec = { numClasses: 10, inChannels: 3, imageSize: 32 };

test('createModel builds each named model', () => {
  assert.deepEqual(models.MODEL_NAMES, ['smallcnn', 'preact18', 'resnet18', 'wrn', 'wrn-28-10', 'wrn-70-16']);
  assert.ok(models.createModel('smallcnn', { numClasses: 10, inChannels: 1, imageSize: 28 }) instanceof models.SmallCnn);
  assert.ok(models.createModel('preact18', spec) instanceof models.PreActResNet18);
  assert.ok(models.createModel('resnet18', spec) instanceof models.ResNet18);
  const wrn = models.createModel('wrn', { ...spec, dropout: 0.5 });
  assert.ok(wrn instanceof models.WideResNet);
  assert.equal(wrn.block1.layer.at(0).constructor.name, 'WideBasicBlock');
  assert.equal((wrn.block1.layer.at(0) as models.WideBasicBlock).dropRate, 0, 'the smallcnn dropout does not leak into WRN');
  assert.throws(
    () => models.createModel('vgg', spec),
    /unknown model 'vgg'; expected one of smallcnn, preact18, resnet18, wrn, wrn-28-10, wrn-70-16/,
  );
});

test('smallcnn from the registry uses the spec dropout and image size', () => {
  const model = models.createModel('smallcnn', { numClasses: 3, inChannels: 1, imageSize: 32, dropout: 0.2 }) as models.SmallCnn;
  assert.equal((model.classifier.get('drop') as unknown as { p: number }).p, 0.2);
  assert.deepEqual(model.stateDict()['classifier.fc1.weight']!.shape, [200, 1600]);
  assert.deepEqual(model.stateDict()['classifier.fc3.weight']!.shape, [3, 200]);
  assert.deepEqual(torch.noGrad(() => model.eval().forward(torch.rand([2, 1, 32, 32]))).shape, [2, 3]);
});
