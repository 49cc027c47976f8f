// One trainer for every method: epochs, learning-rate schedule, optimiser,
// train/eval modes, metrics, checkpoints and resume. Methods plug in through
// the TrainingMethod contract (src/methods/method.ts); progress and results
// go out through TrainingEvents, which the CLI turns into a bar and lines.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Module } from '../nn/index.js';
import { SGD, setLearningRate } from '../optim/index.js';
import { loadSafetensors } from '../io/safetensors.js';
import { OptionError, RunFileError } from '../io/errors.js';
import {
  CHECKPOINT_POINTER,
  LATEST_WEIGHTS,
  checkpointDirs,
  latestCheckpointEpoch,
  readCheckpoint,
  removeCheckpoints,
  removeRunTemps,
  repairLatestWeights,
  saveCheckpoint,
} from '../io/checkpoint.js';
import { acquireRunLock } from '../io/runLock.js';
import { makeDirectory } from '../io/atomic.js';
import { runFacts } from '../io/runFacts.js';
import { watchStopSignals, yieldToEventLoop, type StopSignal } from '../io/stopSignals.js';
import { DataLoader, loadDataset, type Dataset } from '../data/index.js';
import { createMethod } from '../methods/index.js';
import type { Models, TrainingMethod } from '../methods/method.js';
import { evaluateModel } from '../eval/evaluate.js';
import { createRunModel } from '../eval/runModels.js';
import { EVAL_FILE, SWEEP_FILE } from '../eval/runFiles.js';
import type { TrainConfig } from './config.js';
import { learningRateAt, scheduleSteps, type ScheduleStep } from './schedule.js';
import {
  METRICS_FILE,
  RUN_CONFIG_FILE,
  appendMetricsRow,
  readMetricsRows,
  readRunConfigFile,
  writeRunConfigFile,
  type EpochRow,
} from './runFiles.js';

/** What the trainer reports while it works; every callback is optional. */
export interface TrainingEvents {
  /** Before the first epoch: the learning rate of every epoch of the run, as steps. */
  onSchedule?(steps: ScheduleStep[]): void;
  /** Training continues a run after its last checkpoint. */
  onResume?(afterEpoch: number): void;
  onEpochStart?(epoch: number, batches: number): void;
  /** After every batch: the running mean loss and training accuracy of the epoch. */
  onBatch?(epoch: number, batchesDone: number, running: { loss: number; accuracy: number; lr: number }): void;
  /** After the epoch's training, before its evaluation. */
  onEpochTrained?(epoch: number): void;
  /** The epoch's metrics row, once it is written and checkpointed. */
  onEpochEnd?(row: EpochMetrics): void;
  /** An interrupt (SIGINT or SIGTERM) was received; training stops after the current batch. */
  onInterrupt?(signal: StopSignal): void;
  /** Something the trainer repaired or took over in the run directory (a stale lock, leftover files). */
  onNote?(message: string): void;
}

export interface TrainOptions {
  /** A fresh run into a directory that holds a run replaces that run's files (and only those). */
  overwrite?: boolean;
}

/** The files `d2r train` (and `d2r eval`'s defaults) write into a run directory, besides its checkpoints. */
const RUN_FILES = [
  RUN_CONFIG_FILE,
  METRICS_FILE,
  CHECKPOINT_POINTER,
  LATEST_WEIGHTS,
  EVAL_FILE,
  SWEEP_FILE,
  'eval.state.json',
  'eval-examples.safetensors',
];

/** The files of a run present in `dir` (relative names); empty when it holds no run. */
export function runFilesIn(dir: string): string[] {
  return [...RUN_FILES.filter((name) => existsSync(join(dir, name))), ...checkpointDirs(dir)];
}

/** Removes exactly the files of a run from `dir`; everything else stays. */
function clearRun(dir: string): void {
  for (const name of RUN_FILES) rmSync(join(dir, name), { force: true });
  removeCheckpoints(dir);
}

/** The settings a checkpoint must have been trained with to be resumed under a configuration. */
const IDENTITY_KEYS = [
  'method',
  'model',
  'guidance',
  'dataset',
  'batchSize',
  'seed',
  'limit',
] as const satisfies readonly (keyof TrainConfig)[];
const runIdentity = (config: TrainConfig): Record<string, unknown> => Object.fromEntries(IDENTITY_KEYS.map((k) => [k, config[k]]));

/** The loss stopped being finite; the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
    readonly terms: Record<string, number>,
    readonly runDir: string,
  ) {
    const termText = Object.entries(terms)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    super(
      `training diverged: the loss is ${loss} at epoch ${epoch}, batch ${batch}` +
        (termText ? ` (terms: ${termText})` : '') +
        `; the last good checkpoint (epoch ${epoch - 1}) in ${runDir} is kept.`,
    );
  }
}

/** A fresh run into a directory that holds another run's files. */
export class RunDirectoryTakenError extends OptionError {
  override name = 'RunDirectoryTakenError';
  constructor(
    readonly dir: string,
    readonly present: string[],
  ) {
    super('out', 'a directory without a run', `${dir}, which holds ${present.join(', ')}`);
    this.message = this.describe((o) => `setting '${o}'`);
  }

  override describe(name: (option: string) => string): string {
    return `${name('out')} ${this.dir} holds a run (${this.present.join(', ')}): continue it with ${name('resume')}, replace its files with ${name('overwrite')}, or choose another directory`;
  }
}

/** A row of metrics.jsonl as the trainer writes it: every field present. */
export type EpochMetrics = {
  [K in keyof EpochRow]: K extends 'testCleanAccuracy' | 'testRobustAccuracy' | 'guidanceCleanAccuracy' | 'guidanceRobustAccuracy'
    ? EpochRow[K]
    : NonNullable<EpochRow[K]>;
};

export interface TrainResult {
  runDir: string;
  target: Module;
  guidance?: Module;
  epochs: EpochMetrics[];
  seconds: number;
  /** Whether an interrupt stopped training before the last epoch. */
  interrupted: boolean;
  /** The signal that stopped it, or null. */
  signal: StopSignal | null;
}

function augmentFor(config: TrainConfig, data: Dataset): boolean {
  if (config.augment !== 'auto') return config.augment === 'on';
  const [channels, height] = data.inputShape;
  return channels === 3 && height >= 32;
}

function buildModels(config: TrainConfig, data: Dataset, method: TrainingMethod): Models {
  const target = createRunModel(config, 'target', data, config.device);
  if (!method.needsGuidance) return { target };
  const guidance = createRunModel(config, 'guidance', data, config.device);
  if (config.guidanceWeights)
    torch.tidy(() => guidance.loadStateDict(loadSafetensors(config.guidanceWeights!), { from: config.guidanceWeights! }));
  // A frozen guidance model is a fixed function: no gradients are kept for it.
  if (config.guidanceMode === 'frozen') for (const p of guidance.parameters()) p.requiresGrad = false;
  return { target, guidance };
}

/** Reads metrics lines written before a resume point, dropping those after it. */
function keepMetricsUpTo(path: string, epoch: number): EpochMetrics[] {
  if (!existsSync(path)) return [];
  const kept = readMetricsRows(path).filter((r) => r.type !== 'epoch' || r.row.epoch <= epoch);
  writeFileSync(path, kept.map((r) => r.text + '\n').join(''));
  return kept.flatMap((r) => (r.type === 'epoch' ? [r.row as EpochMetrics] : []));
}

export async function train(config: TrainConfig, events: TrainingEvents = {}, options: TrainOptions = {}): Promise<TrainResult> {
  makeDirectory(config.out);
  const lock = acquireRunLock(config.out);
  try {
    if (lock.staleOwner !== null)
      events.onNote?.(`took over the lock of ${config.out} from process ${lock.staleOwner || '(unknown)'}, which is no longer running`);
    for (const path of removeRunTemps(config.out)) events.onNote?.(`removed ${path}, left by an interrupted write`);
    if (!config.resume) {
      const present = runFilesIn(config.out);
      if (present.length > 0) {
        if (!options.overwrite) throw new RunDirectoryTakenError(config.out, present);
        clearRun(config.out);
      }
    }
    return await trainLocked(config, events);
  } finally {
    lock.release();
  }
}

async function trainLocked(config: TrainConfig, events: TrainingEvents): Promise<TrainResult> {
  const started = performance.now();
  if (config.threads > 0) {
    // libtorch starts every thread it is given: far more than the cores only thrashes (or hangs).
    const cores = availableParallelism();
    if (config.threads > cores)
      events.onNote?.(`threads ${config.threads} is more than the ${cores} cores of this machine: using ${cores}`);
    torch.setNumThreads(Math.min(config.threads, cores));
  }
  torch.manualSeed(config.seed);

  const trainSet = loadDataset(config.dataset, { split: 'train', dataDir: config.dataDir ?? undefined, limit: config.limit ?? undefined });
  if (trainSet.images.shape[0] === 0) {
    throw new RunFileError(
      `the ${config.dataset} training set${config.dataDir ? ` in ${config.dataDir}` : ''} has no images: nothing to train on`,
    );
  }
  // --eval-n 0: no evaluation after each epoch (its accuracies are null).
  const testSet =
    config.evalN > 0 ? loadDataset(config.dataset, { split: 'test', dataDir: config.dataDir ?? undefined, limit: config.evalN }) : null;
  const method = createMethod(config);
  const models = buildModels(config, trainSet, method);
  const trainable = [models.target, ...(models.guidance && config.guidanceMode === 'joint' ? [models.guidance] : [])];
  // One SGD over every trained model (D2R's reference recipe; the same for one model).
  const optimizer = new SGD(
    trainable.flatMap((m) => m.parameters()),
    {
      lr: config.lr,
      momentum: config.momentum,
      weightDecay: config.weightDecay,
    },
  );

  const metricsPath = join(config.out, METRICS_FILE);
  let firstEpoch = 1;
  let history: EpochMetrics[] = [];
  if (config.resume) {
    const at = latestCheckpointEpoch(config.out);
    if (at === null) throw new OptionError('resume', `a run directory with a checkpoint (out: ${config.out})`, 'none there');
    checkResumable(config);
    firstEpoch = restore(config, models, optimizer) + 1;
    if (repairLatestWeights(config.out))
      events.onNote?.(`rewrote ${join(config.out, LATEST_WEIGHTS)} from the checkpoint of epoch ${firstEpoch - 1}`);
    history = keepMetricsUpTo(metricsPath, firstEpoch - 1);
    events.onResume?.(firstEpoch - 1);
  } else {
    writeFileSync(metricsPath, '');
  }
  const facts = runFacts(config);
  writeRunConfigFile(config.out, facts);
  appendMetricsRow(metricsPath, { type: 'run', resumedAfterEpoch: firstEpoch - 1, ...facts });
  events.onSchedule?.(scheduleSteps(config));

  const loader = new DataLoader(trainSet, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augment: augmentFor(config, trainSet) ? { randomCrop: { size: trainSet.inputShape[1], padding: 4 }, horizontalFlip: true } : undefined,
  });

  const stop = watchStopSignals((signal) => events.onInterrupt?.(signal));
  const interrupted = (): boolean => stop.signal !== null;
  try {
    for (let epoch = firstEpoch; epoch <= config.epochs && !interrupted(); epoch++) {
      const row = await runEpoch(config, epoch, models, method, optimizer, loader, testSet, events, interrupted);
      if (row === null) break;
      history.push(row);
      appendMetricsRow(metricsPath, row);
      torch.tidy(() =>
        saveCheckpoint(config.out, {
          epoch,
          target: models.target.stateDict(),
          guidance: models.guidance?.stateDict(),
          optimizer: optimizer.stateDict(),
          extra: { run: runIdentity(config) },
        }),
      );
      events.onEpochEnd?.(row);
    }
  } finally {
    stop.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return { runDir: config.out, ...models, epochs: history, seconds, interrupted: interrupted(), signal: stop.signal };
}

/** Restores models, optimiser and RNG from the latest checkpoint; returns its epoch. */
function restore(config: TrainConfig, models: Models, optimizer: SGD): number {
  return torch.tidy(() => {
    const c = readCheckpoint(config.out, models.guidance !== undefined);
    // A checkpoint records the settings it was trained with (runs before this check did not).
    const trained = c.extra['run'] as Record<string, unknown> | undefined;
    if (trained) {
      const now = runIdentity(config);
      for (const key of IDENTITY_KEYS) {
        if (JSON.stringify(trained[key]) !== JSON.stringify(now[key])) {
          throw new OptionError(
            key,
            `${JSON.stringify(trained[key])}, as the checkpoint of epoch ${c.epoch} in ${config.out} was trained, to resume it`,
            JSON.stringify(now[key]),
          );
        }
      }
    }
    const from = `the checkpoint of epoch ${c.epoch} in ${config.out}`;
    models.target.loadStateDict(c.target, { from });
    if (models.guidance && c.guidance) models.guidance.loadStateDict(c.guidance, { from });
    optimizer.loadStateDict(c.optimizer as ReturnType<SGD['stateDict']>);
    torch.setRngState(c.rng);
    return c.epoch;
  });
}

function checkResumable(config: TrainConfig): void {
  const before = readRunConfigFile(config.out)?.config;
  if (!before) return;
  for (const key of IDENTITY_KEYS) {
    if (JSON.stringify(before[key]) !== JSON.stringify(config[key])) {
      throw new OptionError(
        key,
        `${JSON.stringify(before[key])}, as in ${join(config.out, RUN_CONFIG_FILE)}, to resume (only epochs may grow)`,
        JSON.stringify(config[key]),
      );
    }
  }
}

async function runEpoch(
  config: TrainConfig,
  epoch: number,
  models: Models,
  method: TrainingMethod,
  optimizer: SGD,
  loader: DataLoader,
  testSet: Dataset | null,
  events: TrainingEvents,
  stopRequested: () => boolean,
): Promise<EpochMetrics | null> {
  const started = performance.now();
  const lr = learningRateAt(config, epoch);
  setLearningRate(optimizer, lr);
  models.target.train();
  if (models.guidance) {
    if (config.guidanceMode === 'joint') models.guidance.train();
    else models.guidance.eval();
  }
  events.onEpochStart?.(epoch, loader.length);
  let lossSum = 0;
  let seen = 0;
  let correct = 0;
  const termSums: Record<string, number> = {};
  const order = loader.order(epoch);
  for (let batchIndex = 0; batchIndex < loader.length; batchIndex++) {
    torch.tidy(() => {
      const batch = loader.batch(epoch, batchIndex, order);
      const x = batch.x.to(config.device);
      const y = batch.y.to(config.device);
      optimizer.zeroGrad();
      const out = method.batchLoss(models, x, y);
      const loss = out.loss.item();
      if (!Number.isFinite(loss)) {
        const terms = Object.fromEntries(Object.entries(out.terms ?? {}).map(([k, v]) => [k, v.item()]));
        throw new TrainingDivergedError(epoch, batchIndex + 1, loss, terms, config.out);
      }
      out.loss.backward();
      optimizer.step();
      const n = x.shape[0]!;
      lossSum += loss * n;
      seen += n;
      if (out.targetLogits) correct += out.targetLogits.argmax(1).eq(y).sum().item();
      for (const [k, v] of Object.entries(out.terms ?? {})) termSums[k] = (termSums[k] ?? 0) + v.item() * n;
    });
    events.onBatch?.(epoch, batchIndex + 1, { loss: lossSum / seen, accuracy: correct / seen, lr });
    await yieldToEventLoop();
    if (stopRequested()) return null;
  }
  events.onEpochTrained?.(epoch);
  const evaluation =
    testSet === null
      ? null
      : evaluateModel(models, testSet, {
          epsilon: config.epsilon,
          steps: config.evalSteps,
          norm: config.norm,
          batchSize: 256,
          device: config.device,
          seed: config.seed + epoch,
        });
  return {
    type: 'epoch',
    epoch,
    lr,
    trainLoss: lossSum / Math.max(seen, 1),
    trainAccuracy: correct / Math.max(seen, 1),
    terms: Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / Math.max(seen, 1)])),
    testCleanAccuracy: evaluation?.target.clean ?? null,
    testRobustAccuracy: evaluation?.target.robust ?? null,
    guidanceCleanAccuracy: evaluation?.guidance?.clean ?? null,
    guidanceRobustAccuracy: evaluation?.guidance?.robust ?? null,
    evalPoints: evaluation?.points ?? 0,
    seconds: (performance.now() - started) / 1000,
  };
}
