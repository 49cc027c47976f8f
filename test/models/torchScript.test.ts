// TorchScript models as Modules: a network that is not in the zoo matches
// PyTorch (logits, input gradients, a training step), and attacks on a scripted
// SmallCNN equal the same attacks on the zoo's SmallCNN loaded from torch.save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { torch, attacks, models, io, optim } from '../../src/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tempDir.js';
import type { Tensor } from '../../src/index.js';

/** A tensor of ours as the expected side of assertClose. */
const expected = (t: Tensor) => ({ shape: t.shape, dtype: t.dtype, data: t.toNumbers() });

test('a scripted network outside the zoo gives PyTorch its logits and input gradients, and trains like it', () => {
  const dir = tempDir();
  const path = join(dir, 'two_paths.pt');
  torch.manualSeed(5);
  const x = torch.rand([3, 3, 8, 8]);
  const y = torch.tensor([0, 4, 2], [3], { dtype: 'int64' });
  const ref = pytorch('torch_files.py', 'script_two_paths', { seed: 2, path, x, y });
  const model = models.loadTorchScript(path).eval();
  assert.equal(model.training, false);
  const input = x.clone().requiresGrad_();
  const logits = model.forward(input);
  assertClose(logits, ref['logits']!, { atol: 1e-5, what: 'logits' });
  torch.crossEntropy(logits, y, { reduction: 'sum' }).backward();
  assertClose(input.grad!, ref['grad']!, { atol: 1e-5, what: 'input gradient' });
  assert.deepEqual(
    model.namedParameters().map(([name]) => name),
    ['stem.weight', 'stem.bias', 'norm.weight', 'norm.bias', 'mix.0.weight', 'mix.0.bias', 'head.weight', 'head.bias', 'skip.weight'],
  );
  assert.deepEqual(Object.keys(model.stateDict()).slice(2, 7), [
    'norm.weight',
    'norm.bias',
    'norm.running_mean',
    'norm.running_var',
    'norm.num_batches_tracked',
  ]);

  // One SGD step in train mode (batch statistics, running statistics updated) lands where PyTorch's does.
  const step = pytorch('torch_files.py', 'two_paths_train_step', { path, x, y });
  model.train();
  model.zeroGrad();
  const sgd = new optim.SGD(model.parameters(), { lr: 0.1 });
  torch.crossEntropy(model.forward(x), y).backward();
  sgd.step();
  for (const [name, t] of Object.entries(model.stateDict())) assertClose(t.to('float64'), step[name]!, { atol: 1e-5, what: name });
  // The state dict round-trips into the script: loadStateDict writes the script's own tensors.
  const saved = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
  const fresh = models.loadTorchScript(path);
  fresh.loadStateDict(saved);
  fresh.eval();
  model.eval();
  assertClose(fresh.forward(x), expected(model.forward(x).detach()), { atol: 0, what: 'reloaded weights' });
});

test('PGD and AutoAttack on a scripted SmallCNN equal them on the zoo SmallCNN with the torch.save weights', () => {
  const dir = tempDir();
  const files = { script: join(dir, 'small.pt'), plain: join(dir, 'plain.pt'), wrapped: join(dir, 'wrapped.pth') };
  torch.manualSeed(8);
  const x = torch.rand([4, 1, 28, 28]);
  const ref = pytorch('torch_files.py', 'small_cnn_files', { seed: 3, x, ...files });
  const scripted = models.loadTorchScript(files.script).eval();
  const zoo = models.smallCnn().eval();
  zoo.loadStateDict(io.loadWeights(files.plain));
  const notes: string[] = [];
  const unwrapped = models.smallCnn().eval();
  unwrapped.loadStateDict(io.loadWeights(files.wrapped, (n) => notes.push(n)));
  assert.deepEqual(notes, [
    `${files.wrapped}: read the state dict from the checkpoint's 'state_dict' entry (ignored: 'epoch', 'best_acc')`,
    `${files.wrapped}: stripped the 'module.' prefix (nn.DataParallel) from 14 keys`,
  ]);
  for (const m of [scripted, zoo, unwrapped]) assertClose(m.forward(x), ref['logits']!, { atol: 1e-5, what: m.constructor.name });

  const y = torch.noGrad(() => zoo.forward(x).argmax(1));
  const budget = { epsilon: 0.3, stepSize: 0.05, steps: 10, seed: 4 } as const;
  assertClose(attacks.pgd(scripted, x, y, budget), expected(attacks.pgd(zoo, x, y, budget)), { atol: 1e-6, what: 'pgd' });
  const suite = {
    norm: 'linf',
    epsilon: 0.3,
    version: 'custom',
    attacks: ['apgd-ce', 'apgd-t', 'square'],
    queries: 30,
    targets: 2,
    seed: 1,
    keepAdversarial: true,
  } as const;
  const a = attacks.autoAttack(scripted, x, y, suite);
  const b = attacks.autoAttack(zoo, x, y, suite);
  assert.equal(a.robustAccuracy, b.robustAccuracy);
  assert.deepEqual(a.robust, b.robust);
  assertClose(a.adversarial!, expected(b.adversarial!), { atol: 1e-5, what: 'autoAttack adversarial examples' });
});

test('loadTorchScript refuses a torch.save state dict and anything else, naming what it is', () => {
  const dir = tempDir();
  const files = { script: join(dir, 's.pt'), plain: join(dir, 'plain.pt'), wrapped: join(dir, 'w.pt') };
  pytorch('torch_files.py', 'small_cnn_files', { seed: 3, x: torch.rand([1, 1, 28, 28]), ...files });
  assert.throws(
    () => models.loadTorchScript(files.plain),
    /plain\.pt: expected a TorchScript archive \(torch\.jit\.save\), found a torch\.save archive/,
  );
  assert.throws(() => io.loadWeights(files.script), /s\.pt: expected weights .* found a TorchScript archive/);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a model');
  assert.throws(() => models.loadTorchScript(text), /notes\.txt: expected a TorchScript archive .* found not a PyTorch file/);
});
