import { test } from 'node:test';
import assert from 'node:assert/strict';
import { d2r } from '../helpers/cli.js';
import { parseFlags, UsageError } from '../../src/cli/flags.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TRAIN_FLAGS } from '../../src/cli/train.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';

test('every command has --help listing its flags with defaults', () => {
  for (const command of ['train', 'eval']) {
    const r = d2r([command, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--seed <integer>.*\(default: 0\)/);
  }
  const top = d2r(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /train/);
  assert.match(top.stdout, /eval/);
});

test('a wrong flag or value gives a clear error and exit code 2', () => {
  const unknown = d2r(['train', '--epochz', '3']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /epochz/);
  const badNumber = d2r(['train', '--epochs', 'three']);
  assert.equal(badNumber.status, 2);
  assert.match(badNumber.stderr, /--epochs: expected a number, got 'three'/);
  const badChoice = d2r(['train', '--method', 'magic']);
  assert.equal(badChoice.status, 2);
  assert.match(badChoice.stderr, /--method: expected one of standard, pgd-at, trades, mart, lbgat, d2r, got 'magic'/);
  const badCommand = d2r(['fly']);
  assert.equal(badCommand.status, 2);
  assert.match(badCommand.stderr, /unknown command 'fly'/);
});

test('a config file holds settings; flags override it; unknown keys are named', () => {
  const dir = tempDir();
  const yaml = join(dir, 'run.yaml');
  writeFileSync(yaml, 'method: trades\nepochs: 7\nbatch-size: 64\n');
  const fromFile = parseFlags(['--config', yaml, '--epochs', '2'], TRAIN_FLAGS)!;
  assert.equal(fromFile['method'], 'trades');
  assert.equal(fromFile['batchSize'], 64);
  assert.equal(fromFile['epochs'], 2);
  const json = join(dir, 'run.json');
  writeFileSync(json, JSON.stringify({ epochs: 3, colour: 'blue' }));
  assert.throws(() => parseFlags(['--config', json], TRAIN_FLAGS), (e: Error) => e instanceof UsageError && /unknown setting 'colour'/.test(e.message));
  writeFileSync(json, JSON.stringify({ epochs: 'many' }));
  assert.throws(() => parseFlags(['--config', json], TRAIN_FLAGS), /setting 'epochs': expected a number, got 'many'/);
});

test('derived defaults follow the data set and method', () => {
  const fm = resolveTrainConfig(parseFlags(['--dataset', 'fashion-mnist', '--method', 'trades'], TRAIN_FLAGS)!);
  assert.equal(fm.epsilon, 0.1);
  assert.ok(Math.abs(fm.stepSize - 0.01) < 1e-12);
  assert.equal(fm.beta, 6);
  assert.equal(fm.lr, 0.01);
  const cifar = resolveTrainConfig(parseFlags(['--dataset', 'cifar10', '--model', 'preact18', '--method', 'd2r', '--epochs', '100'], TRAIN_FLAGS)!);
  assert.equal(cifar.guidance, 'resnet18');
  assert.equal(cifar.lr, 0.1);
  assert.ok(Math.abs(cifar.epsilon - 8 / 255) < 1e-12);
  assert.deepEqual(cifar.milestones, [75, 90]);
});
