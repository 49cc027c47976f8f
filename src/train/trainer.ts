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
import { loadWeights } from '../io/torchSave.js';
import { OptionError, RunFileError } from '../io/errors.js';
import {
  CHECKPOINT_POINTER,
  LATEST_WEIGHTS,
  checkpointDirs,
  latestCheckpointEpoch,
  readCheckpoint,
  removeCheckpoints,
  type PartialEpoch,
  removeRunTemps,
  repairLatestWeights,
  saveCheckpoint,
} from '../io/checkpoint.js';
import { acquireRunLock } from '../io/runLock.js';
import { parseRunFile, z } from '../io/schema.js';
import { makeDirectory } from '../io/atomic.js';
import { runFacts } from '../io/runFacts.js';
import { watchStopSignals, yieldToEventLoop, type StopSignal } from '../io/stopSignals.js';
import { DataLoader, loadDataset, type Dataset } from '../data/index.js';
import { GradientAverager, barrier } from '../engine/distributed/index.js';
import { createMethod } from '../methods/index.js';
import type { Models, TrainingMethod } from '../methods/method.js';
import { evaluateModel, type ModelAccuracy } from '../eval/evaluate.js';
import { EVAL_FILE, SWEEP_FILE } from '../eval/runFiles.js';
import type { TrainConfig } from './config.js';
import {
  TRAINED_SCRIPT_FILES,
  checkScriptsUnchanged,
  createTrainModel,
  saveTrainedScripts,
  scriptHashes,
  type ScriptHashes,
} from './runScripts.js';
import { learningRateOfBatch, scheduleSteps, shortRunHazard, type ScheduleStep } from './schedule.js';
import {
  anyRank,
  checkBatchSplit,
  evaluationShard,
  processRanks,
  seedRankStream,
  sumOverRanks,
  syncBatchNorm,
  type Ranks,
} from './dataParallel.js';
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
  /** Training continues a run after its last checkpoint: after epoch `afterEpoch`, and `batch` batches into the next one for a mid-epoch checkpoint. */
  onResume?(afterEpoch: number, batch?: number): void;
  /** An epoch begins, at batch `firstBatch` (0, or where a mid-epoch checkpoint left it) of `batches`. */
  onEpochStart?(epoch: number, batches: number, firstBatch: number): void;
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
  ...Object.values(TRAINED_SCRIPT_FILES),
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

/**
 * The target predicted one class for every training image of an epoch after an epoch in which
 * it had learned (dead ReLUs leave a constant output: MART at lr 0.02, batch 16, did so in the
 * study's first runs); the epoch is not checkpointed, the one before it is kept.
 */
export class TrainingCollapsedError extends Error {
  override name = 'TrainingCollapsedError';
  constructor(
    readonly epoch: number,
    readonly predictedClass: number,
    readonly learnedEpoch: number,
    readonly learnedAccuracy: number,
    readonly runDir: string,
  ) {
    super(
      `training collapsed: at epoch ${epoch} the target predicted class ${predictedClass} for every training image, ` +
        `after ${(100 * learnedAccuracy).toFixed(2)}% training accuracy at epoch ${learnedEpoch} (a constant output, typically ` +
        `units that no longer activate after too large a step: try a lower --lr); the checkpoint of epoch ${epoch - 1} in ${runDir} is kept.`,
    );
  }
}

/** Fewer training images an epoch than this say too little for a collapse (a handful can all fall in one class). */
const COLLAPSE_MIN_IMAGES = 1000;

/**
 * Whether an epoch whose sums over all ranks are `sums` is a collapse after `history`: one class
 * predicted for each of at least COLLAPSE_MIN_IMAGES training images labelled with two classes or
 * more, where an earlier epoch reached twice chance training accuracy.
 */
function collapseOf(sums: EpochProgress, history: readonly EpochMetrics[]): { cls: number; after: EpochMetrics } | null {
  const classes = sums.predicted.flatMap((n, cls) => (n > 0 ? [cls] : []));
  const labelled = sums.labelled.filter((n) => n > 0).length;
  if (classes.length !== 1 || labelled < 2 || sums.seen < COLLAPSE_MIN_IMAGES) return null;
  const after = history.find((r) => r.trainAccuracy >= 2 / sums.predicted.length);
  return after ? { cls: classes[0]!, after } : null;
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
  /** Where an interrupted run's mid-epoch checkpoint stands (null: it stopped at its last epoch-end checkpoint). */
  stoppedAt: { epoch: number; batch: number } | null;
}

/** An epoch's running sums after `batch` batches: a mid-epoch checkpoint keeps them to go on. */
const epochProgressSchema = z.object({
  batch: z.int().min(1),
  seconds: z.number().min(0),
  lossSum: z.number(),
  seen: z.int().min(0),
  correct: z.int().min(0),
  termSums: z.record(z.string(), z.number()),
  predicted: z.array(z.int().min(0)),
  labelled: z.array(z.int().min(0)),
  /** Data-parallel runs: the random streams of ranks 1, 2, ... (rank 0's is the checkpoint's rng_state). */
  rankRng: z.array(z.array(z.int().min(0).max(255))).default([]),
});
type EpochProgress = z.output<typeof epochProgressSchema>;

/** Mid-epoch checkpoints: when one is due, and writing it. */
interface MidEpochCheckpoints {
  due(): boolean;
  save(epoch: number, progress: EpochProgress): void;
}

function augmentFor(config: TrainConfig, data: Dataset): boolean {
  if (config.augment !== 'auto') return config.augment === 'on';
  const [channels, height] = data.inputShape;
  return channels === 3 && height >= 32;
}

function buildModels(config: TrainConfig, data: Dataset, method: TrainingMethod, onNote?: (message: string) => void): Models {
  const target = createTrainModel(config, 'target', data);
  if (!method.needsGuidance) return { target };
  const guidance = createTrainModel(config, 'guidance', data);
  if (config.guidanceWeights)
    torch.tidy(() => guidance.loadStateDict(loadWeights(config.guidanceWeights!, onNote), { from: config.guidanceWeights! }));
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

/**
 * Trains by `config`. In a process group (src/engine/distributed) every rank calls it
 * and the run is data-parallel; rank 0 alone owns the run directory (its lock
 * and every file written there).
 */
export async function train(config: TrainConfig, events: TrainingEvents = {}, options: TrainOptions = {}): Promise<TrainResult> {
  const ranks = processRanks();
  if (ranks.rank !== 0) return await trainLocked(config, events, ranks);
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
    return await trainLocked(config, events, ranks);
  } finally {
    lock.release();
  }
}

async function trainLocked(config: TrainConfig, events: TrainingEvents, ranks: Ranks): Promise<TrainResult> {
  const started = performance.now();
  // Unset (0): every core. libtorch starts every thread it is given: far more than the cores only thrashes (or hangs).
  const cores = availableParallelism();
  if (config.threads > cores) events.onNote?.(`threads ${config.threads} is more than the ${cores} cores of this machine: using ${cores}`);
  torch.setNumThreads(config.threads > 0 ? Math.min(config.threads, cores) : cores);
  torch.manualSeed(config.seed);
  const leader = ranks.rank === 0;

  const trainSet = loadDataset(config.dataset, { split: 'train', dataDir: config.dataDir ?? undefined, limit: config.limit ?? undefined });
  if (trainSet.images.shape[0] === 0) {
    throw new RunFileError(
      `the ${config.dataset} training set${config.dataDir ? ` in ${config.dataDir}` : ''} has no images: nothing to train on`,
    );
  }
  // --eval-n 0: no evaluation after each epoch (its accuracies are null).
  checkBatchSplit(config.batchSize, trainSet.size, ranks.worldSize);
  const fullTestSet =
    config.evalN > 0 ? loadDataset(config.dataset, { split: 'test', dataDir: config.dataDir ?? undefined, limit: config.evalN }) : null;
  // Each rank evaluates its part of the points; the counts are summed.
  const testSet = fullTestSet && ranks.worldSize > 1 ? evaluationShard(fullTestSet, ranks) : fullTestSet;
  const method = createMethod(config);
  const models = buildModels(config, trainSet, method, (note) => events.onNote?.(note));
  const hashes = scriptHashes(config, models.guidance !== undefined);
  const syncNote = config.syncBn ? syncBatchNorm(everyModel(models)) : null;
  if (syncNote !== null) events.onNote?.(syncNote);
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
  let resumeProgress: EpochProgress | null = null;
  if (config.resume) {
    const at = latestCheckpointEpoch(config.out);
    if (at === null) throw new OptionError('resume', `a run directory with a checkpoint (out: ${config.out})`, 'none there');
    checkResumable(config, hashes);
    // Every rank reads the checkpoint: --out is on a file system all of them share.
    const restored = restore(config, models, optimizer);
    firstEpoch = restored.epoch + 1;
    if (restored.progress && firstEpoch > config.epochs)
      throw new OptionError(
        'epochs',
        `${firstEpoch} or more: the run's checkpoint is ${restored.progress.batch} batches into epoch ${firstEpoch}, which fewer epochs would leave half trained`,
        String(config.epochs),
      );
    // Sums over the ranks' batches so far: rank 0 carries them on, the others start from none.
    const p = restored.progress;
    resumeProgress = p && (leader ? p : { ...emptyProgress(trainSet.numClasses), batch: p.batch, rankRng: p.rankRng });
    if (leader && repairLatestWeights(config.out))
      events.onNote?.(`rewrote ${join(config.out, LATEST_WEIGHTS)} from the checkpoint of epoch ${firstEpoch - 1}`);
    if (leader) history = keepMetricsUpTo(metricsPath, firstEpoch - 1);
    events.onResume?.(firstEpoch - 1, resumeProgress?.batch);
  } else if (leader) {
    writeFileSync(metricsPath, '');
  }
  if (leader) {
    const facts = { ...runFacts(config), ...hashes, worldSize: ranks.worldSize };
    writeRunConfigFile(config.out, facts);
    appendMetricsRow(metricsPath, {
      type: 'run',
      resumedAfterEpoch: firstEpoch - 1,
      resumedAtBatch: resumeProgress?.batch ?? null,
      ...facts,
    });
  }
  events.onSchedule?.(scheduleSteps(config));
  const averager = ranks.worldSize > 1 ? startDataParallel(models, trainable) : null;

  const loader = new DataLoader(trainSet, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augment: augmentFor(config, trainSet) ? { randomCrop: { size: trainSet.inputShape[1], padding: 4 }, horizontalFlip: true } : undefined,
    shard: ranks.worldSize > 1 ? { rank: ranks.rank, count: ranks.worldSize } : undefined,
  });
  const hazard = leader ? shortRunHazard(config, loader.length) : null;
  if (hazard !== null) events.onNote?.(hazard);

  // A data-parallel rank hears every interrupt (the terminal's and its launcher's), so it keeps
  // watching after the first; all ranks stop together at an agreed batch. One process: a second
  // signal ends it at once.
  const stop = watchStopSignals((signal) => events.onInterrupt?.(signal), { keepWatching: ranks.worldSize > 1 });
  const interrupted = (): boolean => stop.signal !== null;
  const stopAgreed = (): boolean => anyRank(interrupted(), ranks);
  let lastSaved = performance.now();
  const save = (completed: number, partial?: PartialEpoch): void => {
    torch.tidy(() =>
      saveCheckpoint(config.out, {
        epoch: completed,
        ...(partial ? { partial } : {}),
        target: models.target.stateDict(),
        guidance: models.guidance?.stateDict(),
        optimizer: optimizer.stateDict(),
        extra: { run: runIdentity(config) },
      }),
    );
  };
  let stoppedAt: TrainResult['stoppedAt'] = null;
  // Every rank takes part in a mid-epoch checkpoint: rank 0 writes the sums over all ranks and every rank's random stream.
  const midEpoch: MidEpochCheckpoints = {
    due: () => config.checkpointMinutes > 0 && performance.now() - lastSaved >= config.checkpointMinutes * 60_000,
    save: (epoch, progress) => {
      const whole = progressOverRanks(progress, ranks);
      if (leader) save(epoch - 1, { batch: progress.batch, state: whole });
      lastSaved = performance.now();
      stoppedAt = { epoch, batch: progress.batch };
    },
  };
  try {
    for (let epoch = firstEpoch; epoch <= config.epochs && !stopAgreed(); epoch++) {
      const work = { models, method, optimizer, averager, ranks };
      const done = await runEpoch(config, epoch, work, loader, testSet, events, interrupted, midEpoch, resumeProgress);
      resumeProgress = null;
      if (done === null) break;
      stoppedAt = null;
      lastSaved = performance.now();
      const { row, sums } = done;
      // The leader holds the history of a resumed run; every rank stops with its finding.
      const collapse = leader ? collapseOf(sums, history) : null;
      const [found, cls, learnedEpoch, learnedAccuracy] = sumOverRanks(
        collapse ? [1, collapse.cls, collapse.after.epoch, collapse.after.trainAccuracy] : [0, 0, 0, 0],
        ranks,
      ) as [number, number, number, number];
      if (found > 0) throw new TrainingCollapsedError(epoch, cls, learnedEpoch, learnedAccuracy, config.out);
      history.push(row);
      if (leader) {
        appendMetricsRow(metricsPath, row);
        save(epoch);
        saveTrainedScripts(config.out, models);
      }
      events.onEpochEnd?.(row);
    }
    // No rank reports success before rank 0 has written the last checkpoint.
    if (ranks.worldSize > 1) barrier();
  } finally {
    stop.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return { runDir: config.out, ...models, epochs: history, seconds, interrupted: interrupted(), signal: stop.signal, stoppedAt };
}

type Evaluation = ReturnType<typeof evaluateModel>;

/** The evaluation of a rank left without points (fewer points than ranks). */
function noEvaluation(models: Models, steps: number): Evaluation {
  const none = { clean: 0, robust: steps > 0 ? 0 : null };
  return { target: none, guidance: models.guidance ? none : undefined, points: 0 };
}

/** The accuracies over every rank's points (each rank evaluated its own part); this rank's on one process. */
function gatherEvaluation(e: Evaluation, ranks: Ranks): Evaluation {
  if (ranks.worldSize === 1) return e;
  const models = [e.target, ...(e.guidance ? [e.guidance] : [])];
  const counts = models.flatMap((m) => [m.clean, m.robust ?? 0].map((f) => Math.round(f * e.points)));
  const [points, ...totals] = sumOverRanks([e.points, ...counts], ranks) as [number, ...number[]];
  const accuracy = (i: number): ModelAccuracy => ({
    clean: totals[2 * i]! / points,
    robust: models[i]!.robust === null ? null : totals[2 * i + 1]! / points,
  });
  return { target: accuracy(0), guidance: e.guidance ? accuracy(1) : undefined, points };
}

const everyModel = (models: Models): Module[] => [models.target, ...(models.guidance ? [models.guidance] : [])];

/**
 * Starts data-parallel training: every rank takes rank 0's parameters and
 * buffers; the returned averager averages the trained models' gradients.
 */
function startDataParallel(models: Models, trainable: Module[]): GradientAverager {
  const averager = new GradientAverager(trainable.flatMap((m) => m.parameters()));
  averager.broadcastFromRank0(everyModel(models).flatMap((m) => [...m.parameters(), ...m.buffers()]));
  return averager;
}

/** What one epoch trains: the models, their method and optimiser, and the process group's part in it. */
interface EpochWork {
  models: Models;
  method: TrainingMethod;
  optimizer: SGD;
  averager: GradientAverager | null;
  ranks: Ranks;
}

/** Restores models, optimiser and RNG from the latest checkpoint; returns its last completed epoch and, for a mid-epoch one, the epoch's progress. */
function restore(config: TrainConfig, models: Models, optimizer: SGD): { epoch: number; progress: EpochProgress | null } {
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
    const progress = c.partial
      ? parseRunFile(epochProgressSchema, c.partial.state, `the mid-epoch checkpoint (batch ${c.partial.batch}) in ${config.out}`)
      : null;
    return { epoch: c.epoch, progress };
  });
}

function emptyProgress(classes: number): EpochProgress {
  return {
    batch: 0,
    seconds: 0,
    lossSum: 0,
    seen: 0,
    correct: 0,
    termSums: {},
    predicted: new Array<number>(classes).fill(0),
    labelled: new Array<number>(classes).fill(0),
    rankRng: [],
  };
}

/** The epoch's progress over all ranks, for a mid-epoch checkpoint: the sums over ranks, and the random streams of ranks 1, 2, ... (collectives). */
function progressOverRanks(progress: EpochProgress, ranks: Ranks): EpochProgress {
  if (ranks.worldSize === 1) return progress;
  const own = torch.tidy(() => Array.from(torch.getRngState().toUint8Array()));
  // Each rank puts its stream in its own slot; the sum over ranks holds them all.
  const slots = new Array<number>(own.length * ranks.worldSize).fill(0);
  slots.splice(ranks.rank * own.length, own.length, ...own);
  const streams = sumOverRanks(slots, ranks);
  return {
    ...sumsOverRanks(progress, ranks),
    rankRng: Array.from({ length: ranks.worldSize - 1 }, (_, r) => streams.slice((r + 1) * own.length, (r + 2) * own.length)),
  };
}

/** Every running sum of the epoch summed over all ranks (a collective; itself on one process). */
function sumsOverRanks(progress: EpochProgress, ranks: Ranks): EpochProgress {
  if (ranks.worldSize === 1) return progress;
  // Summed in sorted order (every rank the same), returned in the method's order.
  const terms = Object.keys(progress.termSums);
  const sorted = [...terms].sort();
  const classes = progress.predicted.length;
  const totals = sumOverRanks(
    [
      progress.lossSum,
      progress.seen,
      progress.correct,
      ...progress.predicted,
      ...progress.labelled,
      ...sorted.map((k) => progress.termSums[k]!),
    ],
    ranks,
  );
  return {
    ...progress,
    lossSum: totals[0]!,
    seen: totals[1]!,
    correct: totals[2]!,
    predicted: totals.slice(3, 3 + classes),
    labelled: totals.slice(3 + classes, 3 + 2 * classes),
    termSums: Object.fromEntries(terms.map((k) => [k, totals[3 + 2 * classes + sorted.indexOf(k)]!])),
  };
}

/** The random stream of this rank for an epoch: seeded at its start, or, resumed within it, as the checkpoint kept it. */
function startRankStream(config: TrainConfig, epoch: number, ranks: Ranks, from: EpochProgress | null): void {
  const kept = from && from.rankRng.length === ranks.worldSize - 1 ? from.rankRng[ranks.rank - 1] : undefined;
  // Rank 0's stream came back with the checkpoint's rng_state.
  if (from && ranks.rank === 0) return;
  if (kept) torch.tidy(() => torch.setRngState(torch.tensor(Uint8Array.from(kept), [kept.length])));
  else seedRankStream(config.seed, epoch, ranks);
}

function checkResumable(config: TrainConfig, hashes: ScriptHashes): void {
  const recorded = readRunConfigFile(config.out);
  if (!recorded) return;
  checkScriptsUnchanged(config, recorded, hashes, join(config.out, RUN_CONFIG_FILE));
  const before = recorded.config;
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
  { models, method, optimizer, averager, ranks }: EpochWork,
  loader: DataLoader,
  testSet: Dataset | null,
  events: TrainingEvents,
  interrupted: () => boolean,
  midEpoch: MidEpochCheckpoints,
  from: EpochProgress | null,
): Promise<{ row: EpochMetrics; sums: EpochProgress } | null> {
  const started = performance.now() - (from?.seconds ?? 0) * 1000;
  startRankStream(config, epoch, ranks, from);
  // The epoch's row records the lr of its first batch.
  const lr = learningRateOfBatch(config, epoch, 0, loader.length);
  models.target.train();
  if (models.guidance) {
    if (config.guidanceMode === 'joint') models.guidance.train();
    else models.guidance.eval();
  }
  const classes = loader.dataset.numClasses;
  const start = from ?? emptyProgress(classes);
  if (start.batch > loader.length || start.predicted.length !== classes || start.labelled.length !== classes)
    throw new RunFileError(
      `the mid-epoch checkpoint in ${config.out} is at batch ${start.batch} of ${start.predicted.length} classes, but epoch ${epoch} has ${loader.length} batches of ${classes} classes`,
    );
  events.onEpochStart?.(epoch, loader.length, start.batch);
  let { lossSum, seen, correct } = start;
  const termSums = { ...start.termSums };
  // How often the target predicted, and the data labelled, each class: a one-class epoch is a collapse.
  const predicted = [...start.predicted];
  const labelled = [...start.labelled];
  const progress = (batch: number): EpochProgress => ({
    batch,
    seconds: (performance.now() - started) / 1000,
    lossSum,
    seen,
    correct,
    termSums: { ...termSums },
    predicted: [...predicted],
    labelled: [...labelled],
    rankRng: [],
  });
  const order = loader.order(epoch);
  for (let batchIndex = start.batch; batchIndex < loader.length; batchIndex++) {
    const batchLr = learningRateOfBatch(config, epoch, batchIndex, loader.length);
    setLearningRate(optimizer, batchLr);
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
      const n = x.shape[0]!;
      // Averaged over ranks, each rank's mean loss weighs as its share of the global batch.
      const share = (n * ranks.worldSize) / batch.globalSize;
      (share === 1 ? out.loss : out.loss.mul(share)).backward();
      averager?.averageGradients();
      optimizer.step();
      lossSum += loss * n;
      seen += n;
      if (out.targetLogits) {
        const guesses = out.targetLogits.argmax(1);
        correct += guesses.eq(y).sum().item();
        for (const cls of guesses.toInt32Array()) predicted[cls]!++;
        for (const cls of y.toInt32Array()) labelled[cls]!++;
      }
      for (const [k, v] of Object.entries(out.terms ?? {})) termSums[k] = (termSums[k] ?? 0) + v.item() * n;
    });
    events.onBatch?.(epoch, batchIndex + 1, { loss: lossSum / seen, accuracy: correct / seen, lr: batchLr });
    await yieldToEventLoop();
    // One exchange agrees on both: every rank stops, or checkpoints, at the same batch.
    const [stop, due] = sumOverRanks([interrupted() ? 1 : 0, batchIndex + 1 < loader.length && midEpoch.due() ? 1 : 0], ranks);
    if (stop! > 0 || due! > 0) midEpoch.save(epoch, progress(batchIndex + 1));
    if (stop! > 0) return null;
  }
  events.onEpochTrained?.(epoch);
  // Batch norm trained per-rank statistics; every rank evaluates (and rank 0 saves) rank 0's, as DDP's broadcast buffers.
  averager?.broadcastFromRank0(everyModel(models).flatMap((m) => m.buffers()));
  const evaluation =
    testSet === null
      ? null
      : gatherEvaluation(
          testSet.size === 0
            ? noEvaluation(models, config.evalSteps)
            : evaluateModel(models, testSet, {
                epsilon: config.epsilon,
                steps: config.evalSteps,
                norm: config.norm,
                batchSize: 256,
                device: config.device,
                seed: config.seed + epoch,
              }),
          ranks,
        );
  const sums = sumsOverRanks(progress(loader.length), ranks);
  const examples = Math.max(sums.seen, 1);
  const row: EpochMetrics = {
    type: 'epoch',
    epoch,
    lr,
    trainLoss: sums.lossSum / examples,
    trainAccuracy: sums.correct / examples,
    terms: Object.fromEntries(Object.entries(sums.termSums).map(([k, v]) => [k, v / examples])),
    testCleanAccuracy: evaluation?.target.clean ?? null,
    testRobustAccuracy: evaluation?.target.robust ?? null,
    guidanceCleanAccuracy: evaluation?.guidance?.clean ?? null,
    guidanceRobustAccuracy: evaluation?.guidance?.robust ?? null,
    evalPoints: evaluation?.points ?? 0,
    seconds: (performance.now() - started) / 1000,
  };
  return { row, sums };
}
