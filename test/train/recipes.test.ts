// Training recipes: each method's own as 'reference', D2R's for all as
// 'shared'; explicit settings win; the CLI prints the schedule before the
// first epoch. Short runs: test/train/defaults.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTrainConfig } from '../../src/train/config.js';
import { learningRateAt } from '../../src/train/schedule.js';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const lrs = (settings: Record<string, unknown>): number[] => {
  const config = resolveTrainConfig(settings);
  return Array.from({ length: config.epochs }, (_, i) => learningRateAt(config, i + 1));
};
/** The lr of each listed 1-based epoch, rounded off float noise. */
const at = (all: number[], epochs: number[]): number[] => epochs.map((e) => Number(all[e - 1]!.toPrecision(12)));

test('a long D2R or LBGAT run keeps the reference table: 0.02, 0.1 to 75, 0.01 to 90, 0.001 to 100', () => {
  for (const method of ['d2r', 'lbgat', 'standard', 'pgd-at']) {
    const config = resolveTrainConfig({ method, model: 'resnet18', dataset: 'cifar10' });
    assert.equal(config.recipe, 'reference');
    assert.equal(config.epochs, 100, method);
    assert.equal(config.weightDecay, 2e-4, method);
    assert.equal(config.schedule, 'reference', method);
    assert.deepEqual(config.milestones, [75, 90], method);
    assert.deepEqual(
      at(lrs({ method, model: 'resnet18', dataset: 'cifar10' }), [1, 2, 75, 76, 90, 91, 100]),
      [0.02, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001],
      method,
    );
  }
});

test("TRADES' reference recipe: 76 epochs, lr 0.1 divided by 10 from epoch 75, no reduced first epoch, weight decay 2e-4", () => {
  const config = resolveTrainConfig({ method: 'trades', model: 'wrn', dataset: 'cifar10' });
  assert.equal(config.epochs, 76);
  assert.equal(config.weightDecay, 2e-4);
  assert.deepEqual(config.milestones, [74]);
  const all = lrs({ method: 'trades', model: 'wrn', dataset: 'cifar10' });
  assert.deepEqual(at(all, [1, 2, 74, 75, 76]), [0.1, 0.1, 0.1, 0.01, 0.01]);
});

test("MART's reference recipe: 90 epochs, weight decay 7e-4, lr / 10 from epoch 75 and / 100 at epoch 90", () => {
  const config = resolveTrainConfig({ method: 'mart', model: 'wrn', dataset: 'cifar10' });
  assert.equal(config.epochs, 90);
  assert.equal(config.weightDecay, 7e-4);
  assert.deepEqual(config.milestones, [74, 89]);
  assert.deepEqual(at(lrs({ method: 'mart', model: 'wrn', dataset: 'cifar10' }), [1, 74, 75, 89, 90]), [0.1, 0.1, 0.01, 0.01, 0.001]);
});

test("recipe 'shared' trains every method under D2R's recipe", () => {
  for (const method of ['trades', 'mart']) {
    const settings = { method, model: 'wrn', dataset: 'cifar10', recipe: 'shared' };
    const config = resolveTrainConfig(settings);
    assert.equal(config.recipe, 'shared');
    assert.equal(config.epochs, 100);
    assert.equal(config.weightDecay, 2e-4);
    assert.deepEqual(at(lrs(settings), [1, 2, 75, 76, 91]), [0.02, 0.1, 0.1, 0.01, 0.001], method);
  }
});

test('explicit settings win over the recipe', () => {
  const config = resolveTrainConfig({
    method: 'mart',
    model: 'wrn',
    epochs: 20,
    weightDecay: 5e-4,
    schedule: 'cosine',
    milestones: [3],
    lr: 0.2,
  });
  assert.deepEqual([config.epochs, config.weightDecay, config.schedule, config.milestones, config.lr], [20, 5e-4, 'cosine', [3], 0.2]);
  // With a set --lr the reduced first epoch stays lr/5.
  assert.deepEqual(at(lrs({ method: 'd2r', model: 'resnet18', epochs: 100, lr: 0.05 }), [1, 2, 76]), [0.01, 0.05, 0.005]);
  // A shorter run scales the recipe's decays.
  assert.deepEqual(at(lrs({ method: 'trades', model: 'resnet18', epochs: 38 }), [37, 38]), [0.1, 0.01]);
});

test('d2r train prints the schedule and records the recipe and the resolved values in config.json', () => {
  const out = tempDir();
  const r = d2r(trainArgs(out, { method: 'trades', limit: 64, epochs: 2, steps: 1, seed: null }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /schedule \(recipe reference: trades, short\): epochs 1-2 lr 0\.02 \(set every batch: linear warm-up from 0 over the first 10% of the batches, then cosine decay to 0 at the end\); weight decay 0\.0002, momentum 0\.9\n/,
  );
  const config = (JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { config: Record<string, unknown> }).config;
  assert.deepEqual(
    [config['recipe'], config['epochs'], config['schedule'], config['weightDecay'], config['lr']],
    ['reference', 2, 'short', 2e-4, 0.02],
  );
});
