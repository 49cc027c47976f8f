// Zero growth of live tensor handles over training: 10 steps of every method
// (adversarial generation included) leave torch.memory().numTensors where it
// started, once the optimiser's state exists. See docs/memory.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, models, optim, methods } from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import { settledTensorCount } from '../attacks/fixtures.js';

const budget = { epsilon: 0.1, stepSize: 0.03, steps: 3 };

for (const name of methods.METHOD_NAMES) {
  test(`10 training steps of ${name} leave the live tensor handles where they started`, () => {
    torch.manualSeed(1);
    const method = methods.createMethod(name, budget);
    // The smallest images smallCnn takes, a batch of 4.
    const net = (): Module => models.smallCnn({ imageSize: 16, dropout: 0.5 });
    const nets = method.needsGuidance ? { target: net(), guidance: net() } : { target: net() };
    const parameters = [nets.target, ...(nets.guidance ? [nets.guidance] : [])].flatMap((m) => m.parameters());
    const optimizer = new optim.SGD(parameters, { lr: 0.01, momentum: 0.9 });
    const x = torch.rand([4, 1, 16, 16]);
    const y = torch.tensor(new BigInt64Array([0n, 1n, 2n, 3n]));
    const losses: number[] = [];
    const step = (): void => {
      torch.tidy(() => {
        for (const m of Object.values(nets)) m.train();
        optimizer.zeroGrad();
        const out = method.batchLoss(nets, x, y);
        losses.push(out.loss.item());
        out.loss.backward();
        optimizer.step();
      });
    };
    step(); // the first step creates the momentum buffers, which are meant to stay
    const before = settledTensorCount();
    for (let i = 0; i < 10; i++) step();
    optimizer.zeroGrad();
    assert.equal(torch.memory().numTensors, before, `${name}: live handles after 10 steps`);
    // Generation on its own, outside any scope, leaves exactly its result alive.
    if (method instanceof methods.AdversarialTraining) {
      const xAdv = method.generate(nets, x, y);
      assert.equal(torch.memory().numTensors, before + 1, `${name}: live handles after one generation`);
      xAdv.dispose();
    }
    assert.ok(losses.every(Number.isFinite), `${name}: finite losses ${losses}`);
  });
}
