import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Tensor, torch } from '../../src/index.js';
import * as nn from '../../src/nn/index.js';
import * as models from '../../src/models/index.js';
import { checkAgainstPytorch, torchModule } from '../nn/moduleOracle.js';

torch.manualSeed(2);

/** TRADES starts fc3 at zero, which would zero every upstream gradient; give it values for the comparison. */
function withRandomLastLayer(model: models.SmallCnn): models.SmallCnn {
  const fc3 = model.classifier.get('fc3') as nn.Linear;
  nn.init.normal_(fc3.weight, 0, 0.1);
  nn.init.normal_(fc3.bias!, 0, 0.1);
  return model;
}

test('smallCnn (MNIST 28x28) matches the TRADES SmallCNN in PyTorch', () => {
  checkAgainstPytorch(withRandomLastLayer(models.smallCnn({ dropout: 0 })), {
    reference: torchModule('SmallCNN', [], { drop: 0 }),
    input: torch.rand([2, 1, 28, 28]),
  });
});

test('smallCnn sizes fc1 from imageSize and inChannels (3x32x32, 5 classes)', () => {
  const model = withRandomLastLayer(models.smallCnn({ dropout: 0, inChannels: 3, imageSize: 32, numClasses: 5 }));
  assert.deepEqual(model.stateDict()['classifier.fc1.weight']!.shape, [200, 64 * 5 * 5]);
  checkAgainstPytorch(model, {
    reference: torchModule('SmallCNN', [], { drop: 0, in_channels: 3, num_labels: 5, side: 5 }),
    input: torch.rand([2, 3, 32, 32]),
  });
});

const std = (t: Tensor): number => {
  const v = t.toNumbers();
  return Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
};

test('smallCnn uses the TRADES initialisation: kaiming-normal convs, zero conv biases, zero fc3', () => {
  const model = models.smallCnn();
  const sd = model.stateDict();
  for (const [name, fanIn] of [
    ['conv2', 32 * 9],
    ['conv3', 32 * 9],
    ['conv4', 64 * 9],
  ] as const) {
    const expected = Math.sqrt(2 / fanIn);
    const got = std(sd[`feature_extractor.${name}.weight`]!);
    assert.ok(Math.abs(got - expected) < 0.05 * expected, `${name} std ${got}, expected ${expected}`);
    assert.ok(sd[`feature_extractor.${name}.bias`]!.toNumbers().every((b) => b === 0));
  }
  assert.ok(sd['classifier.fc3.weight']!.toNumbers().every((w) => w === 0));
  assert.ok(sd['classifier.fc3.bias']!.toNumbers().every((b) => b === 0));
  const fc1Bound = 1 / Math.sqrt(1024);
  assert.ok(
    sd['classifier.fc1.weight']!.toNumbers().every((w) => Math.abs(w) <= fc1Bound),
    'fc1 keeps the default Linear init',
  );
});

test('smallCnn applies dropout in train mode only', () => {
  const model = withRandomLastLayer(models.smallCnn({ dropout: 0.5 }));
  const x = torch.rand([2, 1, 28, 28]);
  assert.ok(!torch.allclose(model.train().forward(x), model.forward(x)));
  assert.ok(torch.allclose(model.eval().forward(x), model.forward(x)));
  assert.throws(() => models.smallCnn({ imageSize: 12 }), /too small/);
});
