import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Tensor, torch, io } from '../../src/index.js';
import * as models from '../../src/models/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tempDir.js';
import { checkAgainstPytorch, randomizeBatchNorms, torchModule } from '../nn/moduleOracle.js';

torch.manualSeed(5);

test('wideResNet 16-2 matches the TRADES WideResNet in PyTorch (sub_block1 included, unused)', () => {
  const model = models.wideResNet({ depth: 16, widenFactor: 2 });
  randomizeBatchNorms(model);
  checkAgainstPytorch(model, {
    reference: torchModule('WideResNet', [], { depth: 16, widen_factor: 2 }),
    input: torch.rand([2, 3, 32, 32]),
  });
  assert.equal(model.subBlock1!.parameters()[0]!.grad, null);
});

test('wideResNet 10-1 (block1 keeps 16 channels: identity shortcut) matches PyTorch', () => {
  const model = models.wideResNet({ depth: 10, widenFactor: 1, numClasses: 4 });
  randomizeBatchNorms(model);
  checkAgainstPytorch(model, {
    reference: torchModule('WideResNet', [], { depth: 10, widen_factor: 1, num_classes: 4 }),
    input: torch.rand([2, 3, 32, 32]),
  });
});

test('wideResNet 34-10 has the TRADES state-dict layout (keys, order, shapes)', () => {
  const model = models.wideResNet();
  checkAgainstPytorch(model, { reference: torchModule('WideResNet', [], { depth: 34, widen_factor: 10 }) });
  // conv1, then 4 groups (block1, sub_block1, block2, block3) of 5 blocks with 12 keys
  // each plus one convShortcut, then bn1 (5 keys) and fc (2).
  assert.equal(Object.keys(model.stateDict()).length, 1 + 4 * (5 * 12 + 1) + 5 + 2);
});

const rms = (t: Tensor): number => Math.sqrt(t.square().mean().item());

test('wideResNet uses the reference initialisation and rejects depths that are not 6n + 4', () => {
  const model = models.wideResNet({ depth: 16, widenFactor: 4 });
  const sd = model.stateDict();
  for (const [name, outChannels] of [
    ['block2.layer.0.conv1.weight', 128],
    ['block3.layer.1.conv2.weight', 256],
  ] as const) {
    const expected = Math.sqrt(2 / (9 * outChannels));
    assert.ok(Math.abs(rms(sd[name]!) - expected) < 0.03 * expected, `${name}: ${rms(sd[name]!)} vs ${expected}`);
  }
  assert.ok(sd['fc.bias']!.toNumbers().every((b) => b === 0));
  assert.ok(sd['bn1.weight']!.toNumbers().every((w) => w === 1));
  assert.throws(() => models.wideResNet({ depth: 20 }), /6n \+ 4/);
});

test('wideResNet with dropRate drops in train mode only', () => {
  const model = models.wideResNet({ depth: 10, widenFactor: 1, dropRate: 0.3 });
  const x = torch.rand([2, 3, 32, 32]);
  assert.ok(!torch.allclose(model.train().forward(x), model.forward(x)));
  assert.ok(torch.allclose(model.eval().forward(x), model.forward(x)));
});

test("RobustBench's WideResNet layout (no sub_block1) loads from a torch.save checkpoint with PyTorch's logits; wrn-28-10 and wrn-70-16 name it", () => {
  const path = join(tempDir(), 'wrn-28-1.pt');
  const x = torch.rand([2, 3, 32, 32]);
  const ref = pytorch('torch_files.py', 'robustbench_wrn', { seed: 1, depth: 28, widen: 1, path, x });
  const model = models.wideResNet({ depth: 28, widenFactor: 1, subBlock1: false }).eval();
  model.loadStateDict(io.loadWeights(path));
  assert.equal(model.numParameters(), ref['parameters']);
  assertClose(model.forward(x), ref['logits']!, { atol: 1e-4, what: 'wrn-28-1 logits' });
  const spec = { numClasses: 10, inChannels: 3, imageSize: 32 };
  const wrn2810 = models.createModel('wrn-28-10', spec) as models.WideResNet;
  // RobustBench's figure for WRN-28-10, and PyTorch's count of the same layout (test/oracles/reference_models.py).
  assert.equal(wrn2810.numParameters(), 36_479_194);
  assert.equal(wrn2810.subBlock1, null);
  assert.equal(wrn2810.block1.layer.length, 4);
});
