// `d2r eval`: clean and robust accuracy of a trained model (per-point worst case
// over the attacks, AutoAttack included), or robust accuracy against eps, as JSON.
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { helpText, parseFlags, UsageError, withNulls, type FlagSpec } from './flags.js';
import {
  DATASET_NAMES,
  MODEL_NAMES,
  SCRIPTED,
  TRAIN_DEFAULTS,
  defaultEpsilon,
  type DatasetName,
  type ModelName,
  type RunModelName,
  type TrainConfig,
} from '../train/config.js';
import { TRAINED_SCRIPT_FILES } from '../train/runScripts.js';
import { METRICS_FILE, RUN_CONFIG_FILE, readRunConfigFile } from '../train/runFiles.js';
import { loadDataset } from '../data/index.js';
import { CHECKPOINT_POINTER, LATEST_WEIGHTS, checkpointWeightsPath } from '../io/checkpoint.js';
import { loadWeights } from '../io/torchSave.js';
import { loadTorchScript } from '../models/torchScript.js';
import { fileSha256, runFacts } from '../io/runFacts.js';
import { acquireRunLock } from '../io/runLock.js';
import { makeDirectory } from '../io/atomic.js';
import { exitCodeFor, runUntilStopped, watchStopSignals } from '../io/stopSignals.js';
import { evaluatePoints, evaluationSteps, fraction, type AttackOutcome, type EvaluationOptions } from '../eval/evaluate.js';
import { ATTACK_NAMES_HELP, EVAL_PROTOCOLS, type EvalProtocol } from '../eval/attackNames.js';
import { saveExamples } from '../eval/examples.js';
import { createModelFor, loadRunWeights } from '../eval/runModels.js';
import { EVAL_FILE, SWEEP_FILE, evaluationStatePath, writeEvalFile, writeSweepFile } from '../eval/runFiles.js';
import { Progress } from './progress.js';
import {
  ATTACK_MODE_FLAGS,
  refuseWithSweep,
  resolveTargets,
  transferPoints,
  writeAdversarialSet,
  type AttackModeFlags,
} from './evalAttacks.js';
import { evaluateIndividually } from '../eval/evaluate.js';
import type { Norm } from '../attacks/common.js';

export const EVAL_FLAGS: FlagSpec[] = [
  { name: 'checkpoint', type: 'string', help: 'run directory written by d2r train' },
  { name: 'which', type: 'string', choices: ['target', 'guidance'], default: 'target', help: 'which model of a two-model run' },
  { name: 'model', type: 'string', choices: MODEL_NAMES, help: 'architecture, with --weights (instead of --checkpoint)' },
  { name: 'weights', type: 'string', help: 'weights with PyTorch state-dict keys: safetensors, or a torch.save state dict (.pt/.pth)' },
  {
    name: 'torchscript',
    type: 'string',
    help: 'a TorchScript model (torch.jit.save) to evaluate, any architecture, instead of --checkpoint or --model/--weights; needs --dataset',
  },
  { name: 'dataset', type: 'string', choices: DATASET_NAMES, help: "data set (default: the run's)" },
  {
    name: 'data-dir',
    type: 'string',
    help: 'folder with the data files (mnist, cifar10, cifar100, tiny-imagenet; fashion-mnist: default the system copy)',
  },
  { name: 'split', type: 'string', choices: ['test', 'train'], default: 'test', help: 'which split to evaluate on' },
  { name: 'n', type: 'integer', min: 1, default: 1000, help: 'number of points: the first n unless --shuffle' },
  { name: 'shuffle', type: 'boolean', default: false, help: 'take n points at random (seeded) instead of the first n' },
  { name: 'attacks', type: 'list', default: ['pgd20', 'autoattack'], help: `comma-separated attacks, or none: ${ATTACK_NAMES_HELP}` },
  {
    name: 'protocol',
    type: 'string',
    choices: EVAL_PROTOCOLS,
    default: 'ours',
    help: "fgsm/pgdN/cwN: 'ours' moves every point all its steps; 'reference' is the official D2R evaluation (a point stops once misclassified; docs/protocol.md)",
  },
  { name: 'norm', type: 'string', choices: ['linf', 'l2', 'l1'], help: "threat model (default: the run's, else linf; l1: APGD only)" },
  { name: 'epsilon', type: 'number', min: 0, help: "attack budget (default: the run's, else by data set)" },
  {
    name: 'eps-sweep',
    type: 'list',
    help: 'robust accuracy at each of these budgets instead (e.g. 0,0.05,0.1); written to eps-sweep.json',
  },
  { name: 'seed', type: 'integer', min: 0, default: 0, help: 'random seed of the attacks' },
  { name: 'batch-size', type: 'integer', min: 1, default: 250, help: 'evaluation batch size' },
  { name: 'examples', type: 'integer', min: 0, default: 8, help: 'adversarial examples kept for the report' },
  { name: 'state', type: 'string', help: 'state file: progress is saved there and an interrupted run resumes (default: next to --out)' },
  { name: 'threads', type: 'integer', min: 1, help: 'libtorch threads' },
  { name: 'device', type: 'string', default: 'cpu', help: 'device' },
  { name: 'out', type: 'string', help: 'JSON output (default: <checkpoint>/eval.json or eps-sweep.json, else in the current folder)' },
  ...ATTACK_MODE_FLAGS,
];

interface EvalFlags extends AttackModeFlags {
  checkpoint: string | null;
  which: 'target' | 'guidance';
  model: ModelName | null;
  weights: string | null;
  torchscript: string | null;
  dataset: DatasetName | null;
  dataDir: string | null;
  split: 'test' | 'train';
  n: number;
  shuffle: boolean;
  attacks: string[];
  protocol: EvalProtocol;
  norm: Norm | null;
  epsilon: number | null;
  epsSweep: string[] | null;
  seed: number;
  batchSize: number;
  examples: number;
  state: string | null;
  threads: number | null;
  device: string;
  out: string | null;
}

function readRunConfig(dir: string): Partial<TrainConfig> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--checkpoint ${dir}: not a directory`);
  const run = readRunConfigFile(dir);
  if (!run) throw new UsageError(`--checkpoint ${dir}: no ${RUN_CONFIG_FILE} there; is it a run directory written by d2r train?`);
  return run.config;
}

/** Where a path leads: the file's identity when it exists (links and hard links included), else its resolved path. */
function pathIdentity(path: string): string {
  try {
    const s = statSync(path);
    return `inode ${s.dev}:${s.ino}`;
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** The files the evaluation reads, each with the flag that names it. */
function inputFiles(f: EvalFlags): [string, string][] {
  const transfer: [string, string][] = f.transferFrom ? [[f.transferFrom, '--transfer-from']] : [];
  if (f.torchscript) return [[f.torchscript, '--torchscript'], ...transfer];
  if (f.weights) return [[f.weights, '--weights'], ...transfer];
  const dir = f.checkpoint!;
  const files: [string, string][] = [
    ...transfer,
    ...[RUN_CONFIG_FILE, CHECKPOINT_POINTER, LATEST_WEIGHTS, METRICS_FILE].map((name): [string, string] => [
      join(dir, name),
      `--checkpoint's ${name}`,
    ]),
  ];
  if (existsSync(join(dir, CHECKPOINT_POINTER))) files.push([checkpointWeightsPath(dir, f.which), `--checkpoint's weights`]);
  const script = join(dir, TRAINED_SCRIPT_FILES[f.which]);
  if (existsSync(script)) files.push([script, `--checkpoint's ${TRAINED_SCRIPT_FILES[f.which]}`]);
  return files;
}

/**
 * Refuses outputs that would overwrite an input or each other: --out (and the
 * examples file next to it), and the state file.
 */
function checkOutputs(f: EvalFlags, out: string, statePath: string | null): void {
  const inputs = inputFiles(f).map(([path, flag]) => ({ id: pathIdentity(path), flag }));
  const outputs: [string, string][] = [
    [out, '--out'],
    [out.replace(/\.json$/i, '') + '-examples.safetensors', `the examples file of --out`],
  ];
  if (statePath) outputs.push([statePath, f.state === null ? 'the state file next to --out' : '--state']);
  if (f.saveAdversarial) outputs.push([f.saveAdversarial, '--save-adversarial']);
  const seen: { id: string; flag: string }[] = [...inputs];
  for (const [path, flag] of outputs) {
    if (existsSync(path) && statSync(path).isDirectory())
      throw new UsageError(`${flag} ${path} is a folder; give a file path (such as ${join(path, 'eval.json')})`);
    const id = pathIdentity(path);
    const clash = seen.find((s) => s.id === id);
    if (clash)
      throw new UsageError(
        `${flag} ${path} is ${clash.flag}: an output may not overwrite an input or another output; choose another ${flag.startsWith('--') ? flag : '--out'}`,
      );
    seen.push({ id, flag });
  }
  // A run directory's checkpoints are inputs too.
  if (f.checkpoint) {
    const checkpoints = pathIdentity(join(f.checkpoint, 'checkpoints'));
    for (const [path, flag] of outputs) {
      const parent = pathIdentity(dirname(resolve(path)));
      if (parent === checkpoints || resolve(path).startsWith(resolve(f.checkpoint, 'checkpoints') + '/')) {
        throw new UsageError(
          `${flag} ${path} is inside --checkpoint's checkpoints; choose another ${flag.startsWith('--') ? flag : '--out'}`,
        );
      }
    }
  }
}

/** Takes the lock of the folder `out` is written to (created if need be), so that two evaluations into it refuse. */
function lockOutputFolder(out: string): Disposable {
  const dir = dirname(resolve(out));
  makeDirectory(dir);
  const lock = acquireRunLock(dir);
  if (lock.staleOwner !== null)
    process.stderr.write(`note: took over the lock of ${dir} from process ${lock.staleOwner || '(unknown)'}, which is no longer running\n`);
  return { [Symbol.dispose]: () => lock.release() };
}

/** The sha256 of the file whose weights are evaluated (the TorchScript file, --weights, or the checkpoint's). */
function evaluatedWeightsSha256(f: EvalFlags): string {
  return fileSha256(f.torchscript ?? f.weights ?? checkpointWeightsPath(f.checkpoint!, f.which));
}

/** What was evaluated: the weights' content (a hash) and every setting that shapes the result. */
function evaluationKey(f: EvalFlags, s: Setup, attacks: string[], weights: string): string {
  const settings = {
    ...f,
    checkpoint: null,
    weights: null,
    torchscript: null,
    out: null,
    state: null,
    threads: null,
    examples: null,
    model: s.modelName,
    dataset: s.dataset,
    epsilon: s.epsilon,
    norm: s.norm,
    attacks,
  };
  return JSON.stringify({ settings, weightsSha256: weights });
}

function parseSweep(values: string[]): number[] {
  const eps = values.map((v) => Number(v));
  eps.forEach((e, i) => {
    if (!Number.isFinite(e) || e < 0) throw new UsageError(`--eps-sweep: expected non-negative numbers, got '${values[i]}'`);
  });
  if (eps.length === 0) throw new UsageError('--eps-sweep: give at least one budget');
  return eps;
}

/** A progress bar per attack, fed by the protocol's per-batch reports. */
function attackProgress(label: string): Pick<EvaluationOptions, 'onProgress' | 'onAttackDone' | 'onWarning'> {
  let bar: { name: string; progress: Progress; done: number } | null = null;
  return {
    onProgress(name, done, total) {
      if (bar?.name !== name) bar = { name, progress: new Progress(`${label}${name}`, total, 'pt', done), done };
      if (done > bar.done) bar.progress.tick(done - bar.done);
      bar.done = done;
    },
    onAttackDone(a) {
      bar?.progress.finish();
      bar = null;
      process.stderr.write(`${label}${a.name}: robust accuracy ${(100 * a.robustAccuracy).toFixed(2)}% (${a.seconds.toFixed(1)} s)\n`);
    },
    onWarning(message) {
      process.stderr.write(`warning: ${message}\n`);
    },
  };
}

function summaryTable(clean: number, attacks: AttackOutcome[]): string {
  const rows = [['clean', clean, 0] as const, ...attacks.map((a) => [a.name, a.robustAccuracy, a.seconds] as const)];
  let cumulative = 0;
  const lines = [`${'after'.padEnd(12)} ${'accuracy'.padStart(9)} ${'seconds'.padStart(8)} ${'total s'.padStart(8)}`];
  for (const [name, acc, s] of rows) {
    cumulative += s;
    lines.push(
      `${name.padEnd(12)} ${(100 * acc).toFixed(2).padStart(8)}% ${s.toFixed(1).padStart(8)} ${cumulative.toFixed(1).padStart(8)}`,
    );
  }
  return lines.join('\n') + '\n';
}

interface Setup {
  model: Module;
  images: Tensor;
  labels: Tensor;
  indices: number[];
  classNames: string[];
  dataset: DatasetName;
  epsilon: number;
  norm: Norm;
  /** A zoo name, or 'torchscript'. */
  modelName: RunModelName;
}

function setUp(f: EvalFlags): Setup {
  const sources = [f.checkpoint, f.weights, f.torchscript].filter((v) => v !== null).length;
  if (sources !== 1) throw new UsageError('give one of --checkpoint DIR, --model NAME --weights FILE, or --torchscript FILE');
  if (f.torchscript !== null && f.model !== null) throw new UsageError('--torchscript is the whole model: give no --model with it');
  const run = f.checkpoint ? readRunConfig(f.checkpoint) : null;
  const modelName = f.torchscript !== null ? SCRIPTED : (f.model ?? (run ? (f.which === 'guidance' ? run.guidance : run.model) : null));
  const needs = (flag: string, choices: readonly string[]): string =>
    run
      ? `${join(f.checkpoint!, RUN_CONFIG_FILE)} does not record the ${flag}; give --${flag} (one of ${choices.join(', ')})`
      : `--${f.torchscript !== null ? 'torchscript' : 'weights'} needs --${flag} (one of ${choices.join(', ')})`;
  if (!modelName) throw new UsageError(needs('model', MODEL_NAMES));
  const dataset = f.dataset ?? run?.dataset;
  if (!dataset) throw new UsageError(needs('dataset', DATASET_NAMES));
  const epsilon = f.epsilon ?? run?.epsilon ?? defaultEpsilon(dataset);
  const norm = f.norm ?? run?.norm ?? 'linf';
  if (f.threads) {
    // libtorch starts every thread it is given: far more than the cores only thrashes (or hangs).
    const cores = availableParallelism();
    if (f.threads > cores)
      process.stderr.write(`note: --threads ${f.threads} is more than the ${cores} cores of this machine: using ${cores}\n`);
    torch.setNumThreads(Math.min(f.threads, cores));
  }

  const data = loadDataset(dataset, {
    split: f.split,
    dataDir: f.dataDir ?? run?.dataDir ?? undefined,
    limit: f.shuffle ? undefined : f.n,
  });
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
  // A run trained from a script evaluates the trained script it wrote (the checkpoint's weights are then loaded into it, as for the zoo).
  const model =
    modelName === SCRIPTED
      ? loadTorchScript(f.torchscript ?? join(f.checkpoint!, TRAINED_SCRIPT_FILES[f.which]), { device: f.device })
      : createModelFor(modelName, data, run?.dropout ?? TRAIN_DEFAULTS.dropout, f.device);
  if (f.checkpoint) loadRunWeights(f.checkpoint, model, f.which);
  else if (f.weights) {
    const weights = f.weights;
    torch.tidy(() =>
      model.loadStateDict(
        loadWeights(weights, (note) => process.stderr.write(`note: ${note}\n`)),
        { from: weights },
      ),
    );
  }
  return { model, images, labels, indices, classNames: [...data.classNames], dataset, epsilon, norm, modelName };
}

export async function evalCommand(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, EVAL_FLAGS);
  if (parsed === null) {
    process.stdout.write(
      helpText('eval', 'Evaluates a model (a run directory, or an architecture with a weights file) and writes eval.json.', EVAL_FLAGS),
    );
    return 0;
  }
  const f = withNulls(EVAL_FLAGS, parsed) as unknown as EvalFlags;
  // A transfer evaluation runs only the saved set unless --attacks names more.
  const attacksGiven = argv.some((a) => a === '--attacks' || a.startsWith('--attacks='));
  const attacks = f.transferFrom && !attacksGiven ? [] : f.attacks.filter((a) => a !== 'none');
  const sweep = f.epsSweep ? parseSweep(f.epsSweep) : null;
  if (sweep) refuseWithSweep(f);
  let s = setUp(f);
  const transfer = f.transferFrom
    ? transferPoints(f.transferFrom, {
        dataset: s.dataset,
        dataDir: f.dataDir ?? undefined,
        imageShape: s.images.shape.slice(1),
        norm: f.norm,
        epsilon: f.epsilon,
      })
    : null;
  if (transfer) {
    s = {
      ...s,
      images: transfer.images,
      labels: transfer.labels,
      indices: transfer.indices,
      norm: transfer.set.norm,
      epsilon: transfer.set.epsilon,
    };
  }
  const classes = torch.tidy(() =>
    torch.noGrad(() => s.model.eval().forward(s.images.narrow(0, 0, Math.min(1, s.images.shape[0]!)).to(f.device)).shape[1]!),
  );
  const target = resolveTargets(f.targets, {
    model: s.model,
    images: s.images,
    labels: s.labels,
    classes,
    seed: f.seed,
    batchSize: f.batchSize,
  });
  const facts = runFacts({ ...f, model: s.modelName, dataset: s.dataset, epsilon: s.epsilon, norm: s.norm, attacks });
  const base = { norm: s.norm, batchSize: f.batchSize, device: f.device, seed: f.seed, protocol: f.protocol, version: f.aaVersion, target };
  const where = `${s.indices.length} points of ${s.dataset} ${f.split}`;

  if (sweep) {
    const out = f.out ?? (f.checkpoint ? join(f.checkpoint, SWEEP_FILE) : SWEEP_FILE);
    checkOutputs(f, out, null);
    using _lock = lockOutputFolder(out);
    const rows = sweep.map((epsilon) => {
      process.stderr.write(`eps ${epsilon}:\n`);
      const r = evaluatePoints(s.model, s.images, s.labels, epsilon > 0 ? attacks : [], {
        ...base,
        epsilon,
        ...attackProgress(`eps ${epsilon} `),
      });
      return {
        epsilon,
        cleanAccuracy: fraction(r.cleanCorrect),
        robustAccuracy: fraction(r.robust),
        attacks: r.attacks,
        warnings: r.warnings,
      };
    });
    writeSweepFile(out, { ...facts, protocol: f.protocol, sweep: rows });
    process.stdout.write(`\n${'eps'.padEnd(10)} ${'robust'.padStart(9)}\n`);
    for (const r of rows) process.stdout.write(`${String(r.epsilon).padEnd(10)} ${(100 * r.robustAccuracy).toFixed(2).padStart(8)}%\n`);
    process.stdout.write(`\n${where}, ${s.norm}, attacks ${attacks.join(',') || 'none'}; written to ${out}\n`);
    return 0;
  }

  const out = f.out ?? (f.checkpoint ? join(f.checkpoint, EVAL_FILE) : EVAL_FILE);
  // The default state file sits next to the output; a stale one from another evaluation is replaced.
  const statePath = f.state ?? evaluationStatePath(out);
  checkOutputs(f, out, statePath);
  using _lock = lockOutputFolder(out);
  const weightsSha256 = evaluatedWeightsSha256(f);
  const stateKey = evaluationKey(f, s, attacks, weightsSha256);
  const started = performance.now();
  const stop = watchStopSignals((signal) => process.stderr.write(`\n${signal} received: stopping after this batch\n`));
  const steps = evaluationSteps(s.model, s.images, s.labels, attacks, {
    ...base,
    epsilon: s.epsilon,
    state: { path: statePath, key: stateKey, ifOther: f.state === null ? 'restart' : 'error' },
    // The whole adversarial set when it is saved, else the report's first few examples.
    keepAdversarial: f.saveAdversarial !== null ? true : f.examples,
    extraAttacks: transfer ? [transfer.attack] : undefined,
    ...attackProgress(''),
  });
  const result = await runUntilStopped(steps, stop).finally(() => stop.dispose());
  if (result === null) {
    process.stderr.write(`interrupted; rerun the same command to resume (progress saved in ${statePath}):\n  ${facts.command}\n`);
    return exitCodeFor(stop.signal!);
  }
  const individual = f.aaIndividual
    ? evaluateIndividually(s.model, s.images, s.labels, attacks, {
        ...base,
        epsilon: s.epsilon,
        extraAttacks: transfer ? [transfer.attack] : undefined,
        ...attackProgress('alone: '),
      })
    : null;
  if (result.resumed) process.stderr.write(`resumed from ${statePath}\n`);
  const labelList = s.labels.toNumbers();
  const examples = result.adversarial
    ? saveExamples(s.model, s.images, result.adversarial, labelList, s.indices, result.brokenBy, f.examples, out)
    : null;
  const adversarialSet =
    f.saveAdversarial && result.adversarial
      ? writeAdversarialSet(f.saveAdversarial, out, {
          adversarial: result.adversarial,
          labels: s.labels,
          indices: s.indices,
          brokenBy: result.brokenBy,
          attacks: result.attacks.map((a) => a.name),
          dataset: s.dataset,
          split: f.split,
          norm: s.norm,
          epsilon: s.epsilon,
        })
      : null;
  writeEvalFile(out, {
    ...facts,
    protocol: f.protocol,
    weightsSha256,
    individual: individual?.attacks ?? null,
    adversarialSet,
    transferFrom: f.transferFrom,
    cleanAccuracy: fraction(result.cleanCorrect),
    robustAccuracy: attacks.length > 0 ? fraction(result.robust) : null,
    attacks: result.attacks,
    points: { index: s.indices, label: labelList, cleanCorrect: result.cleanCorrect, robust: result.robust, brokenBy: result.brokenBy },
    seconds: (performance.now() - started) / 1000,
    warnings: individual ? [...new Set([...result.warnings, ...individual.warnings])] : result.warnings,
    classNames: s.classNames,
    examples,
  });
  rmSync(statePath, { force: true });
  process.stdout.write('\n' + summaryTable(fraction(result.cleanCorrect), result.attacks));
  for (const w of result.warnings) process.stdout.write(`warning: ${w}\n`);
  process.stdout.write(`\n${where}, eps ${s.epsilon} (${s.norm}); written to ${out}\n`);
  return 0;
}
