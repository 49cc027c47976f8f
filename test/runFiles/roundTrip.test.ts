// Each run file written by its writer reads back equal through its reader, and
// a reader names the file and the field of what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../../src/engine/torch.js';
import { readRunFile } from '../../src/io/schema.js';
import { RunFileError } from '../../src/io/errors.js';
import { runFacts } from '../../src/io/runFacts.js';
import { evaluationStateSchema, writeEvaluationState, type EvaluationState } from '../../src/io/evaluationState.js';
import { readCheckpoint, saveCheckpoint, latestCheckpointEpoch } from '../../src/io/checkpoint.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import {
  appendMetricsRow,
  readMetricsRows,
  readRunConfigFile,
  writeRunConfigFile,
  METRICS_FILE,
  type EpochRow,
} from '../../src/train/runFiles.js';
import { evalFileSchema, sweepFileSchema, writeEvalFile, writeSweepFile, type EvalFile, type SweepFile } from '../../src/eval/runFiles.js';
import { loadRun } from '../../src/report/index.js';
import { tempDir } from '../helpers/tempDir.js';

const config = resolveTrainConfig({ method: 'd2r', epochs: 2, out: '/tmp/run' });
const facts = { ...runFacts(config), worldSize: 2, torchscriptSha256: null, guidanceTorchscriptSha256: null };
const epoch: EpochRow = {
  type: 'epoch',
  epoch: 1,
  lr: 0.01,
  trainLoss: 1.5,
  trainAccuracy: 0.4,
  terms: { ce: 1.2, mse: 0.3 },
  testCleanAccuracy: 0.5,
  testRobustAccuracy: 0.2,
  guidanceCleanAccuracy: 0.55,
  guidanceRobustAccuracy: null,
  evalPoints: 32,
  seconds: 3.5,
};
const evalFile: EvalFile = {
  ...runFacts({ checkpoint: '/tmp/run', seed: 0, attacks: ['pgd20'] }),
  protocol: 'reference',
  weightsSha256: 'ab'.repeat(32),
  individual: [{ name: 'pgd20', robustAccuracy: 0.25, seconds: 1, robust: [true, false, false, false] }],
  adversarialSet: 'adversarial.safetensors',
  transferFrom: null,
  cleanAccuracy: 0.75,
  robustAccuracy: 0.25,
  attacks: [{ name: 'pgd20', robustAccuracy: 0.25, seconds: 1.5 }],
  points: {
    index: [0, 1, 2, 3],
    label: [1, 2, 3, 4],
    cleanCorrect: [true, true, true, false],
    robust: [true, false, false, false],
    brokenBy: [null, 'pgd20', 'pgd20', null],
  },
  seconds: 2,
  warnings: ['a warning'],
  classNames: ['a', 'b', 'c', 'd', 'e'],
  examples: {
    file: 'eval-examples.safetensors',
    index: [1],
    label: [2],
    cleanPrediction: [2],
    adversarialPrediction: [0],
    attack: ['pgd20'],
  },
};

test("config.json and metrics.jsonl: the trainer's writers, read back by resume and the report", () => {
  const dir = tempDir();
  writeRunConfigFile(dir, facts);
  const read = readRunConfigFile(dir)!;
  assert.deepEqual(read, JSON.parse(JSON.stringify(facts)));
  assert.deepEqual(read.config, config);
  const metrics = join(dir, METRICS_FILE);
  appendMetricsRow(metrics, { type: 'run', resumedAfterEpoch: 0, ...facts });
  appendMetricsRow(metrics, epoch);
  const rows = readMetricsRows(metrics);
  assert.deepEqual(
    rows.map((r) => r.type),
    ['run', 'epoch'],
  );
  assert.deepEqual(rows[1]!.row, epoch);
  assert.equal(rows[0]!.type === 'run' && rows[0]!.row.resumedAfterEpoch, 0);
  const run = loadRun(dir);
  assert.deepEqual(run.facts.config, config);
  assert.deepEqual(run.metrics.epochs, [(({ type: _t, ...rest }) => rest)(epoch)]);
});

test("eval.json and eps-sweep.json: the eval command's writers, read back by the report", () => {
  const dir = tempDir();
  writeEvalFile(join(dir, 'eval.json'), evalFile);
  assert.deepEqual(readRunFile(join(dir, 'eval.json'), evalFileSchema), JSON.parse(JSON.stringify(evalFile)));
  const sweep: SweepFile = {
    ...runFacts({ checkpoint: dir, seed: 0, epsSweep: [0, 0.1] }),
    protocol: 'ours',
    sweep: [
      { epsilon: 0, cleanAccuracy: 0.75, robustAccuracy: 0.75, attacks: [], warnings: [] },
      {
        epsilon: 0.1,
        cleanAccuracy: 0.75,
        robustAccuracy: 0.25,
        attacks: [{ name: 'pgd20', robustAccuracy: 0.25, seconds: 1 }],
        warnings: ['w'],
      },
    ],
    warnings: [],
  };
  writeSweepFile(join(dir, 'eps-sweep.json'), sweep);
  assert.deepEqual(readRunFile(join(dir, 'eps-sweep.json'), sweepFileSchema), JSON.parse(JSON.stringify(sweep)));
});

test("eval.state.json: the protocol's writer and reader", () => {
  const path = join(tempDir(), 'eval.state.json');
  const state: EvaluationState = {
    format: 'd2r-evaluation-state',
    version: 1,
    key: 'k',
    cleanCorrect: [true, false],
    brokenBy: ['apgd-ce', null],
    attacks: [{ name: 'apgd-ce', robustAccuracy: 0, seconds: 1 }],
    current: { name: 'square', todo: [0], batchesDone: 0, seconds: 0.5 },
    warnings: [],
    kept: { index: [0], shape: [1], dtype: 'float32', data: 'AACAPw==' },
  };
  writeEvaluationState(path, state);
  assert.deepEqual(readRunFile(path, evaluationStateSchema), state);
});

test('checkpoint.json and state.json: saved and restored', () => {
  const dir = tempDir();
  torch.tidy(() => {
    const weights = { 'fc.weight': torch.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]) };
    saveCheckpoint(dir, {
      epoch: 3,
      target: weights,
      optimizer: { meta: { lr: 0.1 }, tensors: { 'momentum.0': torch.tensor(new Float32Array([5, 6])) } },
      extra: { best: 0.5 },
    });
    const c = readCheckpoint(dir, false);
    assert.equal(c.epoch, 3);
    assert.deepEqual(c.extra, { best: 0.5 });
    assert.deepEqual(c.optimizer.meta, { lr: 0.1 });
    assert.deepEqual(Array.from(c.target['fc.weight']!.toFloat32Array()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(c.optimizer.tensors['momentum.0']!.toFloat32Array()), [5, 6]);
  });
  assert.equal(latestCheckpointEpoch(dir), 3);
});

test('a reader names the file and the field, with what it expected and found', () => {
  const dir = tempDir();
  const path = join(dir, 'eval.json');
  writeEvalFile(path, evalFile);
  const broken = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(path, JSON.stringify({ ...broken, cleanAccuracy: '75%' }));
  assert.throws(
    () => readRunFile(path, evalFileSchema),
    (e: Error) => e instanceof RunFileError && e.message === `${path}: 'cleanAccuracy' should be a number, found string "75%"`,
  );
  writeFileSync(path, JSON.stringify({ ...broken, points: { ...(broken['points'] as object), label: [1] } }));
  assert.throws(() => readRunFile(path, evalFileSchema), /eval\.json: 'points\.label' has 1 entries, 'points\.index' has 4/);
  writeEvalFile(path, evalFile);
  assert.throws(
    () => writeEvalFile(path, { ...evalFile, cleanAccuracy: 2 }),
    /internal error: the value written to .*eval\.json breaks its schema/,
  );
  const pointer = join(dir, 'checkpoint.json');
  writeFileSync(pointer, JSON.stringify({ epoch: 1.5, dir: 'checkpoints/epoch-0001' }));
  assert.throws(() => latestCheckpointEpoch(dir), /checkpoint\.json: 'epoch' should be an integer, found number 1\.5/);
});
