// Short-run defaults (under SHORT_RUN_EPOCHS epochs): smallcnn at batch 16 and
// peak lr 0.02, and the 'short' schedule set every batch (linear warm-up, then
// cosine decay to 0); runs of 10 or more epochs resolve as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolveTrainConfig } from '../../src/train/config.js';
import { SHORT_RUN_MEASURED_STEPS, learningRateAt, learningRateOfBatch, scheduleSteps, shortRunHazard } from '../../src/train/schedule.js';
import { readMetricsRows } from '../../src/train/runFiles.js';
import { SHORT_RUN_WARMUP } from '../../src/methods/defaults.js';
import { d2r, trainArgs } from '../helpers/cli.js';
import { tempDir } from '../helpers/tempDir.js';

const ONE_EPOCH = { method: 'standard', model: 'smallcnn', dataset: 'fashion-mnist', epochs: 1, limit: 6000 };

test('the one-epoch smallcnn run resolves to batch 16, peak lr 0.02 and the per-batch short schedule', () => {
  const config = resolveTrainConfig(ONE_EPOCH);
  assert.deepEqual([config.schedule, config.batchSize, config.lr, config.momentum], ['short', 16, 0.02, 0.9]);
  const batches = Math.ceil(6000 / config.batchSize);
  const lrs = Array.from({ length: batches }, (_, i) => learningRateOfBatch(config, 1, i, batches));
  const warmup = Math.round(SHORT_RUN_WARMUP * batches);
  // Up from near 0 to the peak over the warm-up, then down to near 0 at the end.
  assert.ok(lrs[0]! < 0.02 * config.lr, `first batch lr ${lrs[0]}`);
  for (let i = 1; i < warmup; i++) assert.ok(lrs[i]! > lrs[i - 1]!, `warm-up rises at batch ${i}`);
  assert.ok(Math.max(...lrs) > 0.99 * config.lr && Math.max(...lrs) <= config.lr);
  for (let i = warmup + 1; i < batches; i++) assert.ok(lrs[i]! < lrs[i - 1]!, `decay falls at batch ${i}`);
  assert.ok(lrs.at(-1)! < 0.001 * config.lr, `last batch lr ${lrs.at(-1)}`);
  assert.deepEqual(scheduleSteps(config), [
    {
      from: 1,
      to: 1,
      lr: 0.02,
      perBatch: 'set every batch: linear warm-up from 0 over the first 10% of the batches, then cosine decay to 0 at the end',
    },
  ]);
});

test('a multi-epoch short run warms up and decays once over the whole run, not per epoch', () => {
  const config = resolveTrainConfig({ ...ONE_EPOCH, method: 'pgd-at', epochs: 4 });
  const batches = 10;
  const lrOf = (epoch: number, batch: number): number => learningRateOfBatch(config, epoch, batch, batches);
  assert.ok(lrOf(1, 0) < lrOf(1, 3) && lrOf(1, 3) < lrOf(1, 9), 'warm-up over the first 10% (4 batches of 40)');
  assert.ok(lrOf(2, 0) > lrOf(3, 0) && lrOf(3, 0) > lrOf(4, 0) && lrOf(4, 9) < 0.01 * config.lr);
  // Other models keep batch 128 in short runs.
  assert.equal(resolveTrainConfig({ ...ONE_EPOCH, model: 'resnet18', dataset: 'cifar10' }).batchSize, 128);
  // Explicit settings win.
  const explicit = resolveTrainConfig({ ...ONE_EPOCH, batchSize: 64, schedule: 'constant', lr: 0.02 });
  assert.deepEqual(
    [explicit.batchSize, learningRateOfBatch(explicit, 1, 0, 94), learningRateOfBatch(explicit, 1, 93, 94)],
    [64, 0.02, 0.02],
  );
});

test('runs of 10 or more epochs, and the study (--recipe shared --epochs 15), resolve as before: batch 128, the per-epoch reference table', () => {
  for (const settings of [
    { method: 'd2r', model: 'smallcnn', dataset: 'fashion-mnist', recipe: 'shared', epochs: 15, epsilon: 0.1, stepSize: 0.01, steps: 10 },
    { method: 'standard', model: 'smallcnn', dataset: 'fashion-mnist', epochs: 10 },
    { method: 'trades', model: 'resnet18', dataset: 'cifar10' },
  ]) {
    const config = resolveTrainConfig(settings);
    assert.equal(config.batchSize, 128);
    assert.equal(config.schedule, 'reference');
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      const first = learningRateOfBatch(config, epoch, 0, 469);
      assert.equal(first, learningRateAt(config, epoch));
      assert.equal(learningRateOfBatch(config, epoch, 468, 469), first, `one lr through epoch ${epoch}`);
    }
  }
  const study = resolveTrainConfig({ method: 'pgd-at', model: 'smallcnn', dataset: 'fashion-mnist', recipe: 'shared', epochs: 15 });
  assert.equal(study.lr, 0.01);
  assert.deepEqual(
    Array.from({ length: 15 }, (_, i) => learningRateAt(study, i + 1)),
    [0.002, ...Array(10).fill(0.01), 0.001, 0.001, 0.001, 0.0001],
  );
});

/** The clean test accuracy after one epoch of `d2r train` with `settings` added to the one-epoch defaults. */
function oneEpochAccuracy(settings: Record<string, string | number | null>): number {
  const out = tempDir();
  // 1,600 images: 100 batches at the short-run batch 16; 500 clean test points.
  const r = d2r(trainArgs(out, { limit: 1600, batchSize: null, evalN: 500, ...settings }));
  assert.equal(r.status, 0, r.stderr);
  const epochs = readMetricsRows(join(out, 'metrics.jsonl')).flatMap((row) => (row.type === 'epoch' ? [row.row] : []));
  return epochs.at(-1)!.testCleanAccuracy!;
}

test("the one-epoch defaults learn where the long-run defaults' first epoch (0.01 / 5 at batch 128) does not", () => {
  // Measured (seeds 0, 1): 59.8%, 60.2% with the defaults; 19.8% (seed 0) with the long-run
  // defaults (docs/results/short-runs.md has the 6,000-image runs).
  const short = oneEpochAccuracy({});
  const reference = oneEpochAccuracy({ schedule: 'reference', batchSize: 128, lr: 0.01 });
  assert.ok(short > 0.45, `one epoch with the short-run defaults: ${short}`);
  assert.ok(reference < 0.3, `one epoch at the reference schedule: ${reference}`);
});

test('a recipe named in the settings keeps its table, batch and lr at any length; the short-run defaults apply only when none is named', () => {
  const base = { model: 'smallcnn', dataset: 'fashion-mnist', epochs: 8 };
  for (const method of ['standard', 'pgd-at', 'trades', 'mart', 'lbgat', 'd2r']) {
    // The study's runs: every method under one schedule (an 8-epoch study once mixed both).
    const named = resolveTrainConfig({ ...base, method, recipe: 'shared' });
    assert.deepEqual([named.schedule, named.batchSize, named.lr], ['reference', 128, 0.01], method);
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => Number(learningRateAt(named, i + 1).toPrecision(12))),
      [0.002, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001, 0.0001],
      method,
    );
    const unnamed = resolveTrainConfig({ ...base, method });
    assert.deepEqual([unnamed.recipe, unnamed.schedule, unnamed.batchSize, unnamed.lr], ['reference', 'short', 16, 0.02], method);
  }
  const reference = resolveTrainConfig({ ...base, method: 'trades', recipe: 'reference' });
  assert.deepEqual([reference.schedule, reference.batchSize, reference.lr], ['reference', 128, 0.01]);
});

test('an adversarial run under the short-run defaults for more steps than were measured safe gets a note; standard, shorter or recipe runs none', () => {
  const full = Math.ceil(60000 / 16); // batches of one full Fashion-MNIST epoch at the defaults' batch
  const resolve = (method: string, epochs: number, extra: Record<string, unknown> = {}) =>
    resolveTrainConfig({ method, model: 'smallcnn', dataset: 'fashion-mnist', epochs, ...extra });
  const mart8 = shortRunHazard(resolve('mart', 8), full);
  assert.match(mart8 ?? '', /^mart under the short schedule for 30000 steps at lr 0\.02, batch 16: .*measured to learn over 7500 steps/);
  assert.equal(2 * full, SHORT_RUN_MEASURED_STEPS, 'two full epochs are the measured safe length');
  assert.equal(shortRunHazard(resolve('mart', 2), full), null, 'two epochs: measured');
  assert.equal(shortRunHazard(resolve('standard', 8), full), null, 'standard training kept its units over eight epochs');
  assert.equal(shortRunHazard(resolve('mart', 8, { recipe: 'shared' }), Math.ceil(60000 / 128)), null, 'a recipe');
  assert.equal(shortRunHazard(resolve('mart', 8, { batchSize: 64, lr: 0.005 }), Math.ceil(60000 / 64)), null, "the recipe's lr per image");
  assert.notEqual(shortRunHazard(resolve('mart', 8, { batchSize: 64, lr: 0.01 }), Math.ceil(60000 / 64)), null);
  assert.notEqual(shortRunHazard(resolve('trades', 3), full), null);
});
