// Each baseline against a PyTorch transcription of docs/method.md: its
// adversarial generation from a fixed start, and its loss and the parameter
// gradients of every trained model on a fixed x'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, methods, attacks } from '../../src/index.js';
import type { AdversarialTraining } from '../../src/methods/index.js';
import { pytorch, assertClose } from '../helpers/oracle.js';
import { fixture } from '../attacks/fixtures.js';
import { assertLossAndGradients } from './oracleChecks.js';

const EPS = 0.1;
const STEP = 0.02;
const budget = { epsilon: EPS, stepSize: STEP, steps: 3 };

interface Baseline {
  make: () => AdversarialTraining;
  /** The ascent that generates x': KL to the clean prediction or CE. */
  generation: 'kl' | 'ce';
}

const BASELINES: Record<string, Baseline> = {
  'pgd-at': {
    make: () => new methods.PgdAdversarialTraining(budget),
    generation: 'ce',
  },
  trades: {
    make: () => new methods.Trades(budget),
    generation: 'kl',
  },
  mart: {
    make: () => new methods.Mart(budget),
    generation: 'ce',
  },
  lbgat: {
    make: () => new methods.Lbgat(budget),
    generation: 'kl',
  },
  lbgat0: {
    make: () => new methods.Lbgat({ ...budget, beta: 0 }),
    generation: 'kl',
  },
};

for (const [name, b] of Object.entries(BASELINES)) {
  test(`${name}: generation from a fixed start, loss and gradients equal PyTorch's`, () => {
    const { target, guidance, x, y, inputs } = fixture();
    const init = name === 'pgd-at' ? attacks.randomStart(x, EPS, 'linf', 'ball') : x.add(torch.randn(x.shape).mul(0.001));
    const xa = attacks.project(x.add(torch.randn(x.shape).mul(0.08)), x, EPS, 'linf');
    const method = b.make();
    const twoModels = method.needsGuidance;
    const ref = pytorch('methods.py', 'baseline', {
      ...inputs,
      init,
      xa,
      method: name,
      generation: b.generation,
      eps: EPS,
      step: STEP,
      steps: 3,
      two_models: twoModels,
    });
    const models = twoModels ? { target, guidance } : { target };
    target.train();
    guidance.train();
    const adv = method.generate(models, x, y, init);
    assertClose(adv, ref['adv']!, { atol: 2e-6, rtol: 0, what: `${name} generation` });
    assert.deepEqual([target.training, guidance.training], [true, true]);
    const out = method.lossOn(models, x, xa, y);
    out.loss.backward();
    assertLossAndGradients(out.loss, twoModels ? { 'T.': target, 'G.': guidance } : { 'T.': target }, ref, name);
    // Running statistics count the train-mode passes (TRADES runs T on x twice, LBGAT0 still runs T(x)).
    for (const [prefix, m] of Object.entries({ 'T.': target, 'G.': guidance })) {
      for (const [bufferName, b] of m.namedBuffers()) {
        if (b.dtype !== 'float32') continue;
        assertClose(b, ref[`buffer.${prefix}${bufferName}`]!, { atol: 1e-6, rtol: 1e-5, what: `${name} buffer ${prefix}${bufferName}` });
      }
    }
    assert.deepEqual(out.targetLogits?.shape, [6, 10], 'the target logits for the training accuracy');
  });
}

test('batchLoss is the loss on the batch the method generates (same random stream)', () => {
  for (const [name, b] of Object.entries(BASELINES)) {
    const { target, guidance, x, y } = fixture();
    const method = b.make();
    const models = { target, guidance };
    target.eval(); // eval mode: the two runs below see the same BatchNorm statistics
    guidance.eval();
    torch.manualSeed(21);
    const whole = method.batchLoss(models, x, y).loss.item();
    torch.manualSeed(21);
    const parts = method.lossOn(models, x, method.generate(models, x, y), y).loss.item();
    assert.equal(whole, parts, name);
  }
});

test('standard training is CE on clean data', () => {
  const { target, x, y, inputs } = fixture();
  const ref = pytorch('methods.py', 'standard', inputs);
  target.train();
  const out = new methods.StandardTraining().batchLoss({ target }, x, y);
  out.loss.backward();
  assertLossAndGradients(out.loss, { 'T.': target }, ref, 'standard');
});

test("MART's generation starts at x + 0.001 N(0, I), as its reference; PGD-AT's uniformly in the eps-ball", () => {
  const { target, x, y } = fixture();
  const start = (method: AdversarialTraining): number => method.generate({ target }, x, y).sub(x).abs().amax().item();
  const noSteps = { ...budget, steps: 0 };
  assert.ok(start(new methods.Mart(noSteps)) < 0.01, 'MART: a Gaussian start of scale 0.001');
  assert.ok(start(new methods.PgdAdversarialTraining(noSteps)) > 0.05, 'PGD-AT: a uniform start in the 0.1-ball');
});
