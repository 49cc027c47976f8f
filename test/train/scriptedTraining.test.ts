// A scripted model trains as the trainer trains it: gradients reach the
// script's own parameters through our autograd, the trainer's SGD (momentum and
// weight decay) updates them in place exactly as PyTorch's SGD does, train() and
// eval() switch the script's dropout, and the saved script carries the new weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { models, optim, torch } from '../../src/index.js';
import { assertClose, pytorch } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tempDir.js';

test('SGD steps with momentum and weight decay on a scripted network outside the zoo land where PyTorch lands', () => {
  const dir = tempDir();
  const path = join(dir, 'tiny.pt');
  pytorch('script_training.py', 'make_script', { seed: 4, path, channels: 3, classes: 5 });
  torch.manualSeed(6);
  const xs = [torch.rand([4, 3, 10, 10]), torch.rand([4, 3, 10, 10])];
  const ys = [torch.randint(0, 5, [4]), torch.randint(0, 5, [4])];
  const hyper = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
  const ref = pytorch('script_training.py', 'sgd_steps', {
    path,
    xs,
    ys,
    lr: hyper.lr,
    momentum: hyper.momentum,
    weight_decay: hyper.weightDecay,
  });

  const model = models.loadTorchScript(path).eval();
  const before = model.stateDict()['fc.weight']!.clone();
  const sgd = new optim.SGD(model.parameters(), hyper);
  xs.forEach((x, i) => {
    sgd.zeroGrad();
    torch.crossEntropy(model.forward(x), ys[i]!).backward();
    sgd.step();
  });
  assert.ok(model.stateDict()['fc.weight']!.sub(before).abs().max().item() > 1e-4, 'the steps moved the weights');
  for (const [name, t] of Object.entries(model.stateDict())) assertClose(t.to('float64'), ref[name]!, { atol: 1e-6, what: name });

  // The steps updated the script's own tensors: the script saved now computes with them.
  const saved = join(dir, 'trained.pt');
  models.saveTorchScript(saved, model);
  const logits = pytorch('script_training.py', 'script_logits', { path: saved, x: xs[0]! });
  assertClose(
    torch.noGrad(() => model.forward(xs[0]!)),
    logits['logits']!,
    { atol: 1e-5, what: 'logits of the saved script' },
  );
});

test("train() and eval() switch the script's own dropout", () => {
  const dir = tempDir();
  const path = join(dir, 'tiny.pt');
  pytorch('script_training.py', 'make_script', { seed: 4, path, channels: 1, classes: 3 });
  const model = models.loadTorchScript(path);
  const x = torch.rand([8, 1, 6, 6]);
  const twice = (): [torch.Tensor, torch.Tensor] => torch.noGrad(() => [model.forward(x), model.forward(x)]);
  const [a, b] = model.train() && twice();
  assert.ok(a.sub(b).abs().max().item() > 0, 'train mode: dropout draws differ');
  const [c, d] = model.eval() && twice();
  assert.equal(c.sub(d).abs().max().item(), 0, 'eval mode: no dropout');
});
