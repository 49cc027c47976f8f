import { test } from 'node:test';
import assert from 'node:assert/strict';
import { d2r } from '../helpers/cli.js';
import { parseFlags, UsageError } from '../../src/cli/flags.js';
import { OptionError } from '../../src/io/errors.js';
import { DEFAULT_BETA, D2R_DEFAULT_WEIGHTS } from '../../src/methods/defaults.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TRAIN_FLAGS } from '../../src/cli/train.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir.js';

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
  assert.throws(
    () => parseFlags(['--config', json], TRAIN_FLAGS),
    (e: Error) => e instanceof UsageError && /unknown setting 'colour'/.test(e.message),
  );
  writeFileSync(json, JSON.stringify({ epochs: 'many' }));
  assert.throws(() => parseFlags(['--config', json], TRAIN_FLAGS), /setting 'epochs': expected a number, got 'many'/);
});

test('derived defaults follow the data set and method', () => {
  const fm = resolveTrainConfig(parseFlags(['--dataset', 'fashion-mnist', '--method', 'trades'], TRAIN_FLAGS)!);
  assert.equal(fm.epsilon, 0.1);
  assert.ok(Math.abs(fm.stepSize - 0.01) < 1e-12);
  assert.equal(fm.beta, 6);
  assert.equal(fm.lr, 0.01);
  const cifar = resolveTrainConfig(
    parseFlags(['--dataset', 'cifar10', '--model', 'preact18', '--method', 'd2r', '--epochs', '100'], TRAIN_FLAGS)!,
  );
  assert.equal(cifar.guidance, 'resnet18');
  assert.equal(cifar.lr, 0.1);
  assert.ok(Math.abs(cifar.epsilon - 8 / 255) < 1e-12);
  assert.deepEqual(cifar.milestones, [75, 90]);
});

test('a config file value of the wrong kind is refused, naming the file and the setting', () => {
  const dir = tempDir();
  const cases: [string, string, RegExp][] = [
    ['null.json', JSON.stringify({ epochs: null }), /config file .*null\.json: setting 'epochs': expected a number, got null/],
    ['list.json', JSON.stringify({ lr: [1] }), /config file .*list\.json: setting 'lr': expected a number, got \[1\]/],
    ['hex.yaml', 'epochs: 0x2\n', /config file .*hex\.yaml: setting 'epochs': expected a number, got '0x2'/],
    ['octal.yaml', 'seed: 0o7\n', /setting 'seed': expected a number, got '0o7'/],
    ['fraction.yaml', 'batch-size: 6.5\n', /setting 'batchSize': expected an integer, got 6\.5/],
    ['choice.yaml', 'norm: l3\n', /setting 'norm': expected one of linf, l2, got 'l3'/],
    ['bool.json', JSON.stringify({ resume: 'yes' }), /setting 'resume': expected true or false, got 'yes'/],
    ['items.yaml', 'milestones: [3, x]\n', /setting 'milestones\[1\]': expected a number, got 'x'/],
  ];
  for (const [name, text, pattern] of cases) {
    const path = join(dir, name);
    writeFileSync(path, text);
    assert.throws(
      () => parseFlags(['--config', path], TRAIN_FLAGS),
      (e: Error) => e instanceof UsageError && pattern.test(e.message),
      name,
    );
  }
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'epochs: 2\nlr: 1e-3\nmilestones: [1, 2]\nbeta: 3\n');
  assert.deepEqual(
    (({ epochs, lr, milestones, beta }) => ({ epochs, lr, milestones, beta }))(parseFlags(['--config', good], TRAIN_FLAGS)!),
    { epochs: 2, lr: 0.001, milestones: [1, 2], beta: 3 },
  );
});

test('flags: hex numbers are refused; list entries are typed; library errors name the setting and the CLI the flag', () => {
  assert.throws(() => parseFlags(['--epochs', '0x2'], TRAIN_FLAGS), /--epochs: expected a number, got '0x2'/);
  assert.throws(() => parseFlags(['--milestones', '2,x'], TRAIN_FLAGS), /--milestones: expected a number, got 'x'/);
  assert.deepEqual(parseFlags(['--milestones', '2,4'], TRAIN_FLAGS)!['milestones'], [2, 4]);
  assert.throws(
    () => resolveTrainConfig({ epochs: null }),
    (e: Error) => e instanceof OptionError && e.option === 'epochs' && /expected a number, got null/.test(e.message),
  );
  assert.throws(
    () => resolveTrainConfig({ milestones: [0] }),
    (e: Error) => e instanceof OptionError && e.option === 'milestones[0]',
  );
  const frozen = d2r(['train', '--guidance-mode', 'frozen', '--method', 'd2r']);
  assert.equal(frozen.status, 2);
  assert.match(frozen.stderr, /--guidance-mode frozen needs --guidance-weights \(a pre-trained guidance model\)/);
  assert.throws(
    () => resolveTrainConfig({ method: 'd2r', guidanceMode: 'frozen' }),
    /^OptionError|setting 'guidanceMode' frozen needs setting 'guidanceWeights'/,
  );
  const stray = d2r(['train', 'extra']);
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /unexpected argument 'extra'/);
});

test('the flag help states the method defaults from their one home', () => {
  const help = d2r(['train', '--help']).stdout;
  assert.match(help, new RegExp(`--beta <number>.*\\(default: ${DEFAULT_BETA}\\)`));
  for (const [flag, weight] of [
    ['mse-weight', D2R_DEFAULT_WEIGHTS.mse],
    ['clean-weight', D2R_DEFAULT_WEIGHTS.clean],
    ['adv-weight', D2R_DEFAULT_WEIGHTS.adv],
  ] as const) {
    assert.match(help, new RegExp(`--${flag} <number>.*\\(default: ${weight}\\)`));
  }
  const trades = resolveTrainConfig({ method: 'trades' });
  assert.equal(trades.beta, DEFAULT_BETA);
  assert.equal(resolveTrainConfig({ method: 'pgd-at' }).beta, null);
  assert.deepEqual(
    [trades.mseWeight, trades.cleanWeight, trades.advWeight],
    [D2R_DEFAULT_WEIGHTS.mse, D2R_DEFAULT_WEIGHTS.clean, D2R_DEFAULT_WEIGHTS.adv],
  );
});

test('--recipe: the help names both recipes, a wrong one exits 2, and the recipe fills epochs unless --epochs is given', () => {
  const help = d2r(['train', '--help']).stdout;
  assert.match(help, /--recipe <reference\|shared>.*\(default: reference; a recipe named here is followed at any length/);
  const bad = d2r(['train', '--recipe', 'own']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--recipe: expected one of reference, shared, got 'own'/);
  const mart = (argv: string[]): number => resolveTrainConfig(parseFlags(['--method', 'mart', ...argv], TRAIN_FLAGS)!).epochs;
  assert.deepEqual([mart([]), mart(['--recipe', 'shared']), mart(['--epochs', '3'])], [90, 100, 3]);
});
