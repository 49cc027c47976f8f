// `d2r eval`: clean and robust accuracy of a trained model, written as JSON.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../engine/torch.js';
import { helpText, parseFlags, UsageError, type FlagSpec } from './flags.js';
import { DATASET_NAMES, MODEL_NAMES, defaultEpsilon, type DatasetName, type ModelName, type TrainConfig } from '../train/config.js';
import { loadDataset } from '../data/index.js';
import { createModel } from '../models/registry.js';
import { loadCheckpointWeights } from '../train/checkpoint.js';
import { loadSafetensors } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { evaluatePoints, fraction } from '../eval/evaluate.js';
import { ATTACK_NAMES_HELP } from '../eval/attackNames.js';
import { runFacts } from '../train/facts.js';
import { Progress } from './progress.js';

export const EVAL_FLAGS: FlagSpec[] = [
  { name: 'checkpoint', type: 'string', help: 'run directory written by d2r train' },
  { name: 'which', type: 'string', choices: ['target', 'guidance'], default: 'target', help: 'which model of a two-model run' },
  { name: 'model', type: 'string', choices: MODEL_NAMES, help: 'architecture, with --weights (instead of --checkpoint)' },
  { name: 'weights', type: 'string', help: 'safetensors weights with PyTorch state-dict keys' },
  { name: 'dataset', type: 'string', choices: DATASET_NAMES, help: "data set (default: the run's)" },
  { name: 'data-dir', type: 'string', help: 'folder with the data files (cifar10, cifar100, tiny-imagenet)' },
  { name: 'split', type: 'string', choices: ['test', 'train'], default: 'test', help: 'which split to evaluate on' },
  { name: 'n', type: 'integer', min: 1, default: 1000, help: 'number of points: the first n unless --shuffle' },
  { name: 'shuffle', type: 'boolean', default: false, help: 'take n points at random (seeded) instead of the first n' },
  { name: 'attacks', type: 'list', default: ['pgd20'], help: `comma-separated attacks, or none: ${ATTACK_NAMES_HELP}` },
  { name: 'norm', type: 'string', choices: ['linf', 'l2'], help: "threat model (default: the run's, else linf)" },
  { name: 'epsilon', type: 'number', min: 0, help: "attack budget (default: the run's, else by data set)" },
  { name: 'seed', type: 'integer', min: 0, default: 0, help: 'random seed of the attacks' },
  { name: 'batch-size', type: 'integer', min: 1, default: 256, help: 'evaluation batch size' },
  { name: 'threads', type: 'integer', min: 1, help: 'libtorch threads' },
  { name: 'device', type: 'string', default: 'cpu', help: 'device' },
  { name: 'out', type: 'string', help: 'JSON output (default: <checkpoint>/eval.json, else eval.json)' },
];

interface EvalFlags {
  checkpoint: string | null;
  which: 'target' | 'guidance';
  model: ModelName | null;
  weights: string | null;
  dataset: DatasetName | null;
  dataDir: string | null;
  split: 'test' | 'train';
  n: number;
  shuffle: boolean;
  attacks: string[];
  norm: 'linf' | 'l2' | null;
  epsilon: number | null;
  seed: number;
  batchSize: number;
  threads: number | null;
  device: string;
  out: string | null;
}

function readRunConfig(dir: string): TrainConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--checkpoint ${dir}: not a directory`);
  if (!existsSync(path)) throw new UsageError(`--checkpoint ${dir}: no config.json there; is it a run directory written by d2r train?`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { config: TrainConfig }).config;
}

export function evalCommand(argv: string[]): void {
  const parsed = parseFlags(argv, EVAL_FLAGS);
  if (parsed === null) {
    process.stdout.write(helpText('eval', 'Evaluates a model (a run directory, or an architecture with a weights file) and writes eval.json.', EVAL_FLAGS));
    return;
  }
  const f = parsed as unknown as EvalFlags;
  if ((f.checkpoint === null) === (f.weights === null)) throw new UsageError('give either --checkpoint DIR or --model NAME --weights FILE');
  const run = f.checkpoint ? readRunConfig(f.checkpoint) : null;
  const modelName = f.model ?? (run ? (f.which === 'guidance' ? run.guidance : run.model) : null);
  if (!modelName) throw new UsageError('--weights needs --model (one of ' + MODEL_NAMES.join(', ') + ')');
  const dataset = f.dataset ?? run?.dataset;
  if (!dataset) throw new UsageError('--weights needs --dataset (one of ' + DATASET_NAMES.join(', ') + ')');
  const epsilon = f.epsilon ?? run?.epsilon ?? defaultEpsilon(dataset);
  const norm = f.norm ?? run?.norm ?? 'linf';
  const attacks = f.attacks.filter((a) => a !== 'none');
  if (f.threads) torch.setNumThreads(f.threads);

  const data = loadDataset(dataset, { split: f.split, dataDir: f.dataDir ?? run?.dataDir ?? undefined, limit: f.shuffle ? undefined : f.n });
  let indices = Array.from({ length: Math.min(f.n, data.images.shape[0]!) }, (_, i) => i);
  let images = data.images;
  let labels = data.labels;
  if (f.shuffle) {
    torch.manualSeed(f.seed);
    const perm = torch.randperm(data.images.shape[0]!).narrow(0, 0, indices.length);
    indices = perm.toNumbers();
    images = data.images.indexSelect(0, perm);
    labels = data.labels.indexSelect(0, perm);
  }

  const [inChannels, imageSize] = [data.inputShape[0], data.inputShape[1]];
  const model = createModel(modelName, { numClasses: data.numClasses, inChannels, imageSize, dropout: run?.dropout }).to(f.device);
  if (f.checkpoint) loadCheckpointWeights(f.checkpoint, model, f.which);
  else torch.tidy(() => model.loadStateDict(loadSafetensors(f.weights!)));

  const progress = new Progress('eval', attacks.length, 'attack');
  const started = performance.now();
  const result = evaluatePoints(model, images, labels, attacks, { epsilon, norm, batchSize: f.batchSize, device: f.device, seed: f.seed }, (a) =>
    progress.tick(1, { attack: a.name, robust: a.robustAccuracy }),
  );
  if (attacks.length > 0) progress.finish();
  const seconds = (performance.now() - started) / 1000;
  const cleanAccuracy = fraction(result.cleanCorrect);
  const robustAccuracy = fraction(result.robust);
  const out = f.out ?? (f.checkpoint ? join(f.checkpoint, 'eval.json') : 'eval.json');
  const labelList = labels.toNumbers();
  writeJsonAtomic(out, {
    ...runFacts({ ...f, model: modelName, dataset, epsilon, norm, attacks }),
    cleanAccuracy,
    robustAccuracy: attacks.length > 0 ? robustAccuracy : null,
    attacks: result.attacks,
    points: {
      index: indices,
      label: labelList,
      cleanCorrect: result.cleanCorrect,
      robust: result.robust,
    },
    seconds,
    warnings: [],
  });

  const rows = [['clean', cleanAccuracy, 0] as const, ...result.attacks.map((a) => [a.name, a.robustAccuracy, a.seconds] as const)];
  process.stdout.write(`\n${'stage'.padEnd(12)} ${'accuracy'.padStart(9)} ${'seconds'.padStart(8)}\n`);
  for (const [name, acc, s] of rows) process.stdout.write(`${name.padEnd(12)} ${(100 * acc).toFixed(2).padStart(8)}% ${s.toFixed(1).padStart(8)}\n`);
  process.stdout.write(`\n${indices.length} points of ${dataset} ${f.split}, eps ${epsilon} (${norm}); written to ${out}\n`);
}
