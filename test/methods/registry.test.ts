// The method registry (by name and from a run configuration) and the
// reference optimiser/schedule hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methods } from '../../src/index.js';
import { learningRateAt } from '../../src/train/schedule.js';
import type { TrainConfig } from '../../src/train/config.js';

const budget = { epsilon: 0.1, stepSize: 0.01, steps: 10 };

test('createMethod builds every method by name with the spec defaults', () => {
  const expected = {
    standard: { needsGuidance: false, config: {} },
    'pgd-at': { needsGuidance: false, config: { ...budget, norm: 'linf' } },
    trades: { needsGuidance: false, config: { ...budget, norm: 'linf', beta: 6 } },
    mart: { needsGuidance: false, config: { ...budget, norm: 'linf', beta: 6 } },
    lbgat: { needsGuidance: true, config: { ...budget, norm: 'linf', beta: 6 } },
    d2r: {
      needsGuidance: true,
      config: { ...budget, norm: 'linf', mse: 1, clean: 20, adv: 30, reduction: 'reference', generation: 'cag', guidance: 'joint' },
    },
  };
  for (const name of methods.METHOD_NAMES) {
    const m = methods.createMethod(name, budget);
    assert.equal(m.name, name);
    assert.equal(m.needsGuidance, expected[name].needsGuidance, name);
    assert.deepEqual(m.config, expected[name].config, name);
  }
  assert.equal((methods.createMethod('lbgat', { ...budget, beta: 0 }).config as { beta: number }).beta, 0);
  assert.throws(() => methods.createMethod('fgsm-at' as 'standard', {}), /unknown method 'fgsm-at'; known: standard, pgd-at/);
});

test('createMethod from a run configuration passes the budget, weights and guidance mode', () => {
  const settings = {
    method: 'd2r',
    ...budget,
    norm: 'l2',
    beta: null,
    mseWeight: 2,
    cleanWeight: 0,
    advWeight: 5,
    generation: 'target',
    reduction: 'batchmean',
    guidanceMode: 'frozen',
  } as const;
  assert.deepEqual(methods.createMethod(settings).config, {
    ...budget,
    norm: 'l2',
    mse: 2,
    clean: 0,
    adv: 5,
    reduction: 'batchmean',
    generation: 'target',
    guidance: 'frozen',
  });
  assert.deepEqual(methods.createMethod({ ...settings, method: 'trades', beta: null }).config, { ...budget, norm: 'l2', beta: 6 });
  assert.deepEqual(methods.createMethod({ ...settings, method: 'mart', beta: 3 }).config, { ...budget, norm: 'l2', beta: 3 });
});

test('methodDefaults: one SGD (lr 0.1, momentum 0.9, wd 2e-4) and the reference learning rate by epoch', () => {
  const d = methods.methodDefaults('d2r');
  assert.deepEqual(d.optimizer, { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 2e-4, models: 'target+guidance' });
  assert.equal(methods.methodDefaults('lbgat').optimizer.models, 'target+guidance');
  assert.equal(methods.methodDefaults('trades').optimizer.models, 'target');
  assert.deepEqual(methods.methodDefaults('trades').options, { norm: 'linf', beta: 6 });
  assert.equal(d.epochs, 100);
  const at = (epoch: number, epochs?: number): number => d.learningRate(epoch, epochs);
  assert.deepEqual(
    [1, 2, 75, 76, 90, 91, 100].map((e) => at(e)),
    [0.02, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
  );
  // Fewer epochs: the same shape scaled, and the same as the trainer's 'reference' schedule.
  for (const epochs of [1, 3, 10, 20, 37]) {
    const config = {
      method: 'd2r',
      recipe: 'reference',
      lr: 0.1,
      epochs,
      schedule: 'reference',
      milestones: [],
      gamma: 0.1,
      warmupEpochs: 0,
    } as unknown as TrainConfig;
    for (let e = 1; e <= epochs; e++) assert.equal(at(e, epochs), learningRateAt(config, e), `epoch ${e} of ${epochs}`);
  }
  assert.deepEqual(
    Array.from({ length: 10 }, (_, i) => at(i + 1, 10)),
    [0.02, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.001],
  );
});
