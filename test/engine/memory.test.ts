// A 5,000-step PGD loop on a small CNN runs at flat memory: every step's
// tensors are released by its scope, not left to the garbage collector.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

test('5,000 PGD steps keep the resident set flat', () => {
  torch.manualSeed(0);
  const model = new nn.Sequential(new nn.Conv2d(1, 8, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8 * 13 * 13, 10)).eval();
  const x = torch.keep(torch.rand([8, 1, 28, 28]));
  const y = torch.keep(torch.randint(0, 10, [8]));
  let adv: Tensor = torch.keep(x.clone());
  const step = (): void => {
    const next = torch.tidy(() => {
      const input = adv.detach().requiresGrad_();
      const [g] = torch.grad(torch.crossEntropy(model.forward(input), y), input);
      return input.detach().add(g!.sign().mul(0.01)).clamp(x.sub(0.1), x.add(0.1)).clamp(0, 1);
    });
    adv.dispose();
    adv = torch.keep(next);
  };
  for (let i = 0; i < 200; i++) step();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 5000; i++) step();
  const growthMb = (process.memoryUsage().rss - before) / 2 ** 20;
  console.log(`RSS growth over 5,000 steps: ${growthMb.toFixed(1)} MB`);
  assert.ok(growthMb < 60, `resident set grew by ${growthMb.toFixed(1)} MB`);
  assert.ok(adv.sub(x).abs().amax().item() <= 0.1 + 1e-6);
});
