// One trainer for every method: epochs, learning-rate schedule, optimiser,
// train/eval modes, metrics, checkpoints and resume. Methods plug in through
// the TrainingMethod contract (src/train/method.ts).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Module } from '../nn/index.js';
import { SGD, setLearningRate } from '../optim/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { loadSafetensors } from '../io/safetensors.js';
import { DataLoader, loadDataset, type Dataset } from '../data/index.js';
import { createModel } from '../models/registry.js';
import { createMethod } from '../methods/index.js';
import { Progress } from '../cli/progress.js';
import { evaluateModel } from '../eval/evaluate.js';
import type { TrainConfig } from './config.js';
import { learningRateAt } from './schedule.js';
import { latestCheckpointEpoch, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { Models, TrainingMethod } from './method.js';
import { runFacts } from './facts.js';

export class TrainingDivergedError extends Error {}

export interface EpochMetrics {
  type: 'epoch';
  epoch: number;
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  terms: Record<string, number>;
  testCleanAccuracy: number;
  testRobustAccuracy: number | null;
  guidanceCleanAccuracy: number | null;
  guidanceRobustAccuracy: number | null;
  evalPoints: number;
  seconds: number;
}

export interface TrainResult {
  runDir: string;
  target: Module;
  guidance?: Module;
  epochs: EpochMetrics[];
  seconds: number;
}

function augmentFor(config: TrainConfig, data: Dataset): boolean {
  if (config.augment !== 'auto') return config.augment === 'on';
  const [channels, height] = data.inputShape;
  return channels === 3 && height >= 32;
}

function buildModels(config: TrainConfig, data: Dataset, method: TrainingMethod): Models {
  const [inChannels, imageSize] = [data.inputShape[0], data.inputShape[1]];
  const spec = { numClasses: data.numClasses, inChannels, imageSize, dropout: config.dropout };
  const target = createModel(config.model, spec).to(config.device);
  if (!method.needsGuidance) return { target };
  const guidance = createModel(config.guidance, spec).to(config.device);
  if (config.guidanceWeights) torch.tidy(() => guidance.loadStateDict(loadSafetensors(config.guidanceWeights!)));
  // A frozen guidance model is a fixed function: no gradients are kept for it.
  if (config.guidanceMode === 'frozen') for (const p of guidance.parameters()) p.requiresGrad = false;
  return { target, guidance };
}

/** Reads metrics lines written before a resume point, dropping those after it. */
function keepMetricsUpTo(path: string, epoch: number): EpochMetrics[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    const row = JSON.parse(l) as { type: string; epoch?: number };
    return row.type !== 'epoch' || (row.epoch ?? 0) <= epoch;
  });
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
  return kept.map((l) => JSON.parse(l)).filter((r) => r.type === 'epoch');
}

export function train(config: TrainConfig, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): TrainResult {
  const started = performance.now();
  if (config.threads > 0) torch.setNumThreads(config.threads);
  torch.manualSeed(config.seed);
  mkdirSync(config.out, { recursive: true });

  const trainSet = loadDataset(config.dataset, { split: 'train', dataDir: config.dataDir ?? undefined, limit: config.limit ?? undefined });
  const testSet = loadDataset(config.dataset, { split: 'test', dataDir: config.dataDir ?? undefined, limit: config.evalN > 0 ? config.evalN : 1 });
  const method = createMethod(config);
  const models = buildModels(config, trainSet, method);
  const trainable = [models.target, ...(models.guidance && config.guidanceMode === 'joint' ? [models.guidance] : [])];
  // One SGD over every trained model (D2R's reference recipe; the same for one model).
  const optimizer = new SGD(trainable.flatMap((m) => m.parameters()), {
    lr: config.lr,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
  });

  const metricsPath = join(config.out, 'metrics.jsonl');
  let firstEpoch = 1;
  let history: EpochMetrics[] = [];
  if (config.resume) {
    const at = latestCheckpointEpoch(config.out);
    if (at === null) throw new Error(`--resume: ${config.out} has no checkpoint to resume from`);
    checkResumable(config);
    firstEpoch = restoreCheckpoint(config.out, models.target, models.guidance, optimizer).epoch + 1;
    history = keepMetricsUpTo(metricsPath, firstEpoch - 1);
    log(`resuming ${config.out} after epoch ${firstEpoch - 1}`);
  } else {
    writeFileSync(metricsPath, '');
  }
  const facts = runFacts(config);
  writeJsonAtomic(join(config.out, 'config.json'), facts);
  appendFileSync(metricsPath, JSON.stringify({ type: 'run', resumedAfterEpoch: firstEpoch - 1, ...facts }) + '\n');

  const loader = new DataLoader(trainSet, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augment: augmentFor(config, trainSet) ? { randomCrop: { size: trainSet.inputShape[1], padding: 4 }, horizontalFlip: true } : undefined,
  });

  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    log('interrupt received: stopping after this batch; the last completed epoch is checkpointed (resume with --resume)');
  };
  process.once('SIGINT', onSignal);
  try {
    for (let epoch = firstEpoch; epoch <= config.epochs && !interrupted; epoch++) {
      const row = runEpoch(config, epoch, models, method, optimizer, loader, testSet, () => interrupted);
      if (row === null) break;
      history.push(row);
      appendFileSync(metricsPath, JSON.stringify(row) + '\n');
      saveCheckpoint(config.out, { epoch, target: models.target, guidance: models.guidance, optimizer });
      log(
        `epoch ${epoch}/${config.epochs}: loss ${row.trainLoss.toFixed(4)} train acc ${(100 * row.trainAccuracy).toFixed(2)}% ` +
          `test clean ${(100 * row.testCleanAccuracy).toFixed(2)}%` +
          (row.testRobustAccuracy === null ? '' : ` PGD-${config.evalSteps} ${(100 * row.testRobustAccuracy).toFixed(2)}%`) +
          ` (${row.seconds.toFixed(1)} s)`,
      );
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
  return { runDir: config.out, ...models, epochs: history, seconds: (performance.now() - started) / 1000 };
}

function checkResumable(config: TrainConfig): void {
  const path = join(config.out, 'config.json');
  if (!existsSync(path)) return;
  const before = (JSON.parse(readFileSync(path, 'utf8')) as { config: Partial<TrainConfig> }).config;
  const mustMatch: (keyof TrainConfig)[] = ['method', 'model', 'guidance', 'dataset', 'batchSize', 'seed', 'limit'];
  for (const key of mustMatch) {
    if (before[key] !== undefined && JSON.stringify(before[key]) !== JSON.stringify(config[key])) {
      throw new Error(
        `--resume: setting '${key}' was ${JSON.stringify(before[key])} in ${path} but is ${JSON.stringify(config[key])} now; ` +
          'resume with the same settings (only --epochs may grow)',
      );
    }
  }
}

function runEpoch(
  config: TrainConfig,
  epoch: number,
  models: Models,
  method: TrainingMethod,
  optimizer: SGD,
  loader: DataLoader,
  testSet: Dataset,
  stopRequested: () => boolean,
): EpochMetrics | null {
  const started = performance.now();
  const lr = learningRateAt(config, epoch);
  setLearningRate(optimizer, lr);
  models.target.train();
  if (models.guidance) {
    if (config.guidanceMode === 'joint') models.guidance.train();
    else models.guidance.eval();
  }
  const progress = new Progress(`epoch ${epoch}/${config.epochs}`, loader.length, 'batch');
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
        const terms = Object.entries(out.terms ?? {}).map(([k, v]) => `${k}=${v.item()}`).join(', ');
        throw new TrainingDivergedError(
          `training diverged: the loss is ${loss} at epoch ${epoch}, batch ${batchIndex + 1}` +
            (terms ? ` (terms: ${terms})` : '') +
            `; the last good checkpoint (epoch ${epoch - 1}) in ${config.out} is kept. Try a lower --lr.`,
        );
      }
      out.loss.backward();
      optimizer.step();
      const n = x.shape[0]!;
      lossSum += loss * n;
      seen += n;
      if (out.targetLogits) correct += out.targetLogits.argmax(1).eq(y).sum().item();
      for (const [k, v] of Object.entries(out.terms ?? {})) termSums[k] = (termSums[k] ?? 0) + v.item() * n;
    });
    progress.tick(1, { loss: lossSum / seen, acc: correct / seen, lr });
    if (stopRequested()) return null;
  }
  progress.finish();
  const evaluation = evaluateModel(models, testSet, {
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
    testCleanAccuracy: evaluation.target.clean,
    testRobustAccuracy: evaluation.target.robust,
    guidanceCleanAccuracy: evaluation.guidance?.clean ?? null,
    guidanceRobustAccuracy: evaluation.guidance?.robust ?? null,
    evalPoints: evaluation.points,
    seconds: (performance.now() - started) / 1000,
  };
}

