// The methods study's results page: for each run of a study folder written by
// experiments/study.sh, evaluates the finished runs with `d2r eval` (PGD-20,
// CW-20 and AutoAttack standard, each on its own on the same first n test
// points), and writes the table, the exact commands, the per-epoch curve
// summary and a multi-run `d2r report` of the finished runs beside it.
//
//   node dist/experiments/study-results.js [--study runs/study] [--out docs/results/fashion-mnist.md]
//     [--n 1000] [--seed 0] [--protocol ours] [--autoattack autoattack] [--threads N]
//     [--evaluate NAME]
//
// --evaluate NAME evaluates that one run (when finished) and writes no page:
// experiments/study.sh calls it right after each training run, so evaluations
// share the lanes' cores with training instead of waiting for the last run.
//
// --autoattack names what the AutoAttack column runs: 'autoattack' (the
// standard suite), or one of its components (e.g. apgd-ce) for a quick look.
//
// Rerunning is cheap: an evaluation already written for the same weights and
// settings is kept, and an interrupted one resumes from d2r eval's state file.
// Unfinished runs are listed as in progress, never evaluated; a trained run still
// evaluating shows the evaluations written so far and how far its AutoAttack has got.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/io/atomic.js';
import { checkpointWeightsPath } from '../src/io/checkpoint.js';
import { evaluationStateSchema } from '../src/io/evaluationState.js';
import { fileSha256 } from '../src/io/runFacts.js';
import { readEval, readMetrics, readRunConfig, type EpochRecord, type EvalResult, type RunSegment } from '../src/report/schema.js';
import { EVAL_PROTOCOLS, type EvalProtocol } from '../src/eval/attackNames.js';
import { EVAL_FILE, evaluationStatePath } from '../src/eval/runFiles.js';
import { METRICS_FILE, RUN_CONFIG_FILE } from '../src/train/runFiles.js';
import { trainConfigSchema } from '../src/train/config.js';
import { changesEveryBatch, learningRateAt } from '../src/train/schedule.js';

/** The hand-written analysis of the D2R runs, beside the page. */
const INVESTIGATION = 'docs/results/d2r-investigation.md';
/** The short-run measurements, with the study's first runs that trained under the short-run defaults. */
const SHORT_RUNS = 'docs/results/short-runs.md';
/** The study's history: what was set aside or lost, and what was measured before. */
const HISTORY = 'docs/results/study-history.md';
/** The study's committed copy (experiments/study-store.sh). */
const STORE = 'docs/results/fashion-mnist-runs';

/** The runs of experiments/study.sh, methods first, then D2R's ablations and its variants. */
const STUDY_RUNS: readonly { name: string; what: string }[] = [
  { name: 'standard', what: 'standard training (no attack)' },
  { name: 'pgd-at', what: 'PGD-AT' },
  { name: 'trades', what: 'TRADES (beta 6)' },
  { name: 'mart', what: 'MART (beta 6)' },
  { name: 'lbgat', what: 'LBGAT (beta 6, smallcnn guidance)' },
  { name: 'd2r', what: 'D2R (smallcnn guidance, CAG)' },
  { name: 'd2r-target-generation', what: 'D2R without CAG (--generation target)' },
  { name: 'd2r-no-clean', what: 'D2R without the clean term (--clean-weight 0)' },
  { name: 'd2r-no-adv', what: 'D2R without the adversarial term (--adv-weight 0)' },
  { name: 'd2r-batchmean', what: 'D2R variant: each KL summed over classes, averaged over the batch (--reduction batchmean)' },
  { name: 'd2r-frozen-guidance', what: "D2R variant: the PGD-AT run's model as a frozen guidance (--guidance-mode frozen)" },
];

/** The evaluations of a finished run: each attack alone on the same points; AutoAttack's is the run's eval.json (the report's attack table). */
function evaluations(s: Settings): { attacks: string; file: string }[] {
  return [
    { attacks: 'pgd20', file: 'eval-pgd20.json' },
    { attacks: 'cw20', file: 'eval-cw20.json' },
    { attacks: s.autoAttack, file: EVAL_FILE },
  ];
}

/**
 * The settings every run of the study shares: the table compares methods and ablations, so
 * anything else that differs (an 8-epoch study once mixed two schedules) makes it a comparison
 * of something else. The method's own settings (method, guidance, generation, reduction, loss
 * weights, beta) and where or how fast a run ran (out, threads, device) may differ.
 */
const SHARED_SETTINGS = [
  'dataset',
  'dataDir',
  'limit',
  'model',
  'dropout',
  'augment',
  'recipe',
  'epochs',
  'batchSize',
  'lr',
  'momentum',
  'weightDecay',
  'schedule',
  'warmupEpochs',
  'norm',
  'epsilon',
  'stepSize',
  'steps',
  'seed',
  'evalN',
  'evalSteps',
] as const;
/** Settings only some schedules read. */
const MULTISTEP_SETTINGS = ['milestones', 'gamma'] as const;

type Config = Record<string, unknown>;

/** The first shared setting in which `config` differs from `expected`: its name and both values (JSON), or null. */
function differingSetting(config: Config, expected: Config): { key: string; found: string; expected: string } | null {
  const keys = [...SHARED_SETTINGS, ...(config['schedule'] === 'multistep' ? MULTISTEP_SETTINGS : [])];
  for (const key of keys) {
    const [f, e] = [JSON.stringify(config[key] ?? null), JSON.stringify(expected[key] ?? null)];
    if (f !== e) return { key, found: f, expected: e };
  }
  return null;
}

/** Refuses a study whose runs differ in a shared setting, naming the run, the setting and both values. */
function checkSharedSettings(study: string, runs: readonly { name: string }[]): void {
  let first: { name: string; config: Config } | null = null;
  for (const run of runs) {
    const file = join(study, run.name, RUN_CONFIG_FILE);
    if (!existsSync(file)) continue;
    const config = readRunConfig(file).config;
    const differs = first && differingSetting(config, first.config);
    if (first && differs)
      throw new Error(
        `${file}: ${differs.key} is ${differs.found}, but the study's ${first.name} run has ${differs.expected}; the table compares runs under one recipe: ` +
          `retrain ${run.name} (or ${first.name}) with the same settings`,
      );
    first ??= { name: run.name, config };
    if (existsSync(join(study, run.name, METRICS_FILE))) checkStarts(join(study, run.name), config);
  }
}

const scheduleSettings = trainConfigSchema.pick({
  method: true,
  recipe: true,
  schedule: true,
  lr: true,
  epochs: true,
  milestones: true,
  gamma: true,
  warmupEpochs: true,
});

/**
 * Refuses a run that did not train every epoch under its final settings: each start (the first, then each
 * resume, from metrics.jsonl) must have the shared settings of the final config, and a start that planned
 * another number of epochs must have given each epoch it trained the lr of the final schedule (PGD-AT and
 * D2R began as 15-epoch runs and went on as 8-epoch ones; both tables give epochs 1 to 6 the same lr).
 */
function checkStarts(dir: string, final: Config): void {
  const file = join(dir, METRICS_FILE);
  const starts = readMetrics(file).segments;
  const finalSchedule = scheduleSettings.parse(final);
  starts.forEach((start, i) => {
    const where = `${file} line ${start.line}`;
    const differs = differingSetting({ ...start.config, epochs: final['epochs'] }, final);
    if (differs)
      throw new Error(`${where}: this start of the run had ${differs.key} ${differs.found}, but the run ends with ${differs.expected}`);
    if (start.config['epochs'] === final['epochs']) return;
    const schedule = scheduleSettings.parse(start.config);
    const next = starts[i + 1];
    const first = (start.resumedAfterEpoch ?? 0) + 1;
    const last = next ? (next.resumedAfterEpoch ?? 0) + (next.resumedAtBatch === null ? 0 : 1) : finalSchedule.epochs;
    for (let epoch = first; epoch <= last; epoch++) {
      const [had, should] = [learningRateAt(schedule, epoch), learningRateAt(finalSchedule, epoch)];
      if (changesEveryBatch(schedule) || changesEveryBatch(finalSchedule) || Math.abs(had - should) > 1e-12 * Math.abs(should))
        throw new Error(
          `${where}: this start planned ${schedule.epochs} epochs and trained epoch ${epoch} at lr ${had}` +
            (changesEveryBatch(schedule) ? ' (per batch)' : '') +
            `, but the run's ${finalSchedule.epochs}-epoch schedule gives it ${should}: retrain the run`,
        );
    }
  });
}

/** Epochs over which the curve summary measures how flat the end of training is. */
const FLAT_WINDOW = 3;

interface Settings {
  n: number;
  seed: number;
  protocol: EvalProtocol;
  autoAttack: string;
  threads: number | null;
}

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function d2r(args: string[]): void {
  process.stderr.write(`$ d2r ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`d2r ${args.slice(0, 3).join(' ')}... failed with exit status ${r.status ?? r.signal}`);
}

function evalArgs(dir: string, attacks: string, file: string, s: Settings): string[] {
  return [
    'eval',
    '--checkpoint',
    dir,
    '--n',
    String(s.n),
    '--attacks',
    attacks,
    '--seed',
    String(s.seed),
    '--protocol',
    s.protocol,
    ...(s.threads ? ['--threads', String(s.threads)] : []),
    '--out',
    join(dir, file),
  ];
}

/**
 * Whether `file` is this evaluation of the run's current weights (then it is kept): by the weights' hash
 * it records (a study restored from its committed copy has fresh modification times), else, for files
 * from before the hash was recorded, by being newer than the weights.
 */
function isCurrent(file: string, attacks: string, weights: string, s: Settings): boolean {
  if (!existsSync(file)) return false;
  const ev = readEval(file);
  const c = ev.facts.config;
  const same =
    c['n'] === s.n &&
    ev.facts.seed === s.seed &&
    ev.protocol === s.protocol &&
    JSON.stringify(c['attacks']) === JSON.stringify([attacks]) &&
    (ev.weightsSha256 !== null ? ev.weightsSha256 === fileSha256(weights) : statSync(file).mtimeMs >= statSync(weights).mtimeMs);
  // Never overwrite an eval.json this tool did not write.
  if (!same && basename(file) === EVAL_FILE && JSON.stringify(c['attacks']) !== JSON.stringify([attacks]))
    throw new Error(
      `${file} holds another evaluation (attacks ${JSON.stringify(c['attacks'])}); move it away to let the study write its own`,
    );
  return same;
}

/** A started run: its epochs so far and its starts (the first, then each resume). */
interface Started {
  name: string;
  what: string;
  dir: string;
  planned: number;
  epochs: EpochRecord[];
  starts: RunSegment[];
}
type RunState =
  | { kind: 'not started'; name: string; what: string }
  | (Started & { kind: 'in progress'; done: number })
  | (Started & { kind: 'finished' });

function runState(study: string, run: { name: string; what: string }): RunState {
  const dir = join(study, run.name);
  if (!existsSync(join(dir, RUN_CONFIG_FILE)) || !existsSync(join(dir, METRICS_FILE))) return { kind: 'not started', ...run };
  const planned = Number(readRunConfig(join(dir, RUN_CONFIG_FILE)).config['epochs']);
  const { epochs, segments: starts } = readMetrics(join(dir, METRICS_FILE));
  const done = epochs.at(-1)?.epoch ?? 0;
  if (done < planned || !existsSync(join(dir, 'target.safetensors')))
    return { kind: 'in progress', ...run, dir, done, planned, epochs, starts };
  return { kind: 'finished', ...run, dir, planned, epochs, starts };
}

/** Each start's command, a resume with where it went on. */
function trainingCommands(state: RunState): string[] {
  if (state.kind === 'not started') return [`# ${state.name}: not started`];
  return state.starts.map((s, i) => {
    const command = s.command ?? '(command not recorded)';
    if (i === 0) return command;
    return (
      `${command}   # after epoch ${s.resumedAfterEpoch}` + (s.resumedAtBatch === null ? '' : `, batch ${s.resumedAtBatch} of the next`)
    );
  });
}

/** Runs that were started with another --epochs than they ended with: "`name` ... after epoch E". */
function replannedRuns(rows: Row[]): string[] {
  return rows.flatMap(({ state: s }) => {
    if (s.kind === 'not started') return [];
    const changes = s.starts.flatMap((start, i) => {
      const before = s.starts[i - 1];
      return before && before.config['epochs'] !== start.config['epochs']
        ? [
            `\`--epochs ${String(before.config['epochs'])}\` to \`--epochs ${String(start.config['epochs'])}\` after epoch ${start.resumedAfterEpoch}`,
          ]
        : [];
    });
    return changes.length ? [`\`${s.name}\` (${changes.join(', ')})`] : [];
  });
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : (100 * v).toFixed(2));
const share = (flags: boolean[]): number => flags.filter(Boolean).length / flags.length;

/** Training time: the epochs' seconds in metrics.jsonl (each epoch's check on the test points included). */
function trainingTime(epochs: EpochRecord[]): string {
  const seconds = epochs.reduce((sum, e) => sum + (e.seconds ?? 0), 0);
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 60).toFixed(1)} min`;
}

/** The epoch `back` epochs before the last (0: the last), if the run has it. */
function epochBeforeLast(epochs: EpochRecord[], back: number): EpochRecord | undefined {
  const last = epochs.at(-1);
  return last && epochs.find((e) => e.epoch === last.epoch - back);
}

/** How flat the end of the curves is: test clean and PGD accuracy FLAT_WINDOW epochs before the last, and at the last. */
function curveSummary(epochs: EpochRecord[]): string {
  const last = epochs.at(-1);
  const before = epochBeforeLast(epochs, FLAT_WINDOW);
  if (!last || !before) return `fewer than ${FLAT_WINDOW + 1} epochs`;
  const change = (a: number | null, b: number | null): string =>
    a === null || b === null ? '—' : `${pct(a)} → ${pct(b)} (${b >= a ? '+' : ''}${(100 * (b - a)).toFixed(2)})`;
  return `clean ${change(before.testCleanAccuracy, last.testCleanAccuracy)}; PGD ${change(before.testRobustAccuracy, last.testRobustAccuracy)}`;
}

interface Row {
  state: RunState;
  /** Every evaluation of a trained run, or null while any is missing. */
  evals: EvalResult[] | null;
  /** A trained run still evaluating: what is there so far (see evaluationProgress). */
  progress: EvalProgress | null;
}

/** A trained run's evaluations so far: each one already written (null where not), and an AutoAttack under way. */
interface EvalProgress {
  results: (EvalResult | null)[];
  /** From the AutoAttack evaluation's state file: its points' clean accuracy, and the attacks done with the robust accuracy after them. */
  autoAttack: { cleanAccuracy: number | null; done: string[]; robustAccuracy: number } | null;
}

/** A rise of the per-epoch check within this many points counts as flat (about the check's noise: 1,000 points, one seed). */
const FLAT_POINTS = 2;

/**
 * Whether the finished runs' curves have flattened, in one sentence, told apart the way the recipe's
 * schedule shapes them: at its peak lr, by how much each run's last epoch there beat the best of the
 * FLAT_WINDOW - 1 before it (is the curve still making new highs before the lr drops? a best, not the
 * first of the window, so that one bad epoch does not read as a climb), the largest gain the lr drop brought after them (the usual
 * step of annealing, not a sign of too few epochs), and the largest change between the last two epochs.
 * Null with too few epochs, or when no run has FLAT_WINDOW epochs at its peak lr before a drop.
 */
function flatness(rows: Row[]): string | null {
  type Change = { run: string; what: string; points: number; epochs: string };
  const largest = (changes: Change[]): Change | undefined =>
    changes.reduce<Change | undefined>((m, c) => (!m || c.points > m.points ? c : m), undefined);
  const atPeak: Change[] = [];
  const fromDrop: Change[] = [];
  const lastStep: Change[] = [];
  for (const { state } of rows) {
    if (state.kind !== 'finished') continue;
    const lrs = state.epochs.map((e) => e.lr);
    if (lrs.some((lr) => lr === null)) continue; // a per-batch schedule has no per-epoch peak
    const peakLr = Math.max(...(lrs as number[]));
    const peak = state.epochs.filter((e) => Math.abs(e.lr! - peakLr) <= 1e-12 * peakLr);
    const lastPeak = peak.at(-1);
    const [last, previous] = [0, 1].map((back) => epochBeforeLast(state.epochs, back));
    const before = lastPeak ? peak.filter((e) => e.epoch < lastPeak.epoch && e.epoch >= lastPeak.epoch - (FLAT_WINDOW - 1)) : [];
    if (!last || !previous || !lastPeak || before.length < FLAT_WINDOW - 1 || lastPeak === last) return null;
    for (const [what, key] of [
      ['clean', 'testCleanAccuracy'],
      ['PGD', 'testRobustAccuracy'],
    ] as const) {
      const change = (from: EpochRecord, to: EpochRecord, signed: boolean): Change | null => {
        const [a, b] = [from[key], to[key]];
        if (a === null || b === null) return null;
        return { run: state.name, what, points: 100 * (signed ? b - a : Math.abs(b - a)), epochs: `${from.epoch} to ${to.epoch}` };
      };
      const best = before.reduce((m, e) => ((e[key] ?? -1) > (m[key] ?? -1) ? e : m));
      for (const [list, c] of [
        [atPeak, change(best, lastPeak, true)],
        [fromDrop, change(lastPeak, last, true)],
        [lastStep, change(previous, last, false)],
      ] as const)
        if (c) list.push(c);
    }
  }
  const [rise, drop, step] = [largest(atPeak), largest(fromDrop), largest(lastStep)];
  if (!rise || !drop || !step) return null;
  const f = (c: Change): string => `${c.points.toFixed(1)} points (\`${c.run}\`, ${c.what}, epochs ${c.epochs})`;
  return (
    `- Have the curves flattened? At the peak lr, no finished run's last epoch there beat the best of the ${FLAT_WINDOW - 1} before it ` +
    (rise.points > 0 ? `by more than ${f(rise)}; ` : `at all (the closest: ${f(rise)}); `) +
    `the lr drop after them added up to ${f(drop)}; between the last two epochs no run moves by more than ${f(step)}. ` +
    (rise.points > FLAT_POINTS
      ? `So not every curve had flattened at the peak lr (a new high by more than ${FLAT_POINTS} points, about the noise of a 1,000-point check): ` +
        'the number of epochs bounds this table, and more epochs at the peak lr would likely raise the runs still rising there.'
      : `So the curves had flattened at the peak lr (no new high by more than ${FLAT_POINTS} points, about the noise of a 1,000-point check) ` +
        'before the drop, and are flat after it: more epochs at the peak lr would add little.')
  );
}

/** A run's evaluations: their files and commands. */
function plannedEvaluations(dir: string, s: Settings): { attacks: string; path: string; args: string[] }[] {
  return evaluations(s).map((e) => ({ attacks: e.attacks, path: join(dir, e.file), args: evalArgs(dir, e.attacks, e.file, s) }));
}

/** The run's evaluations, running those not yet written; with `pageOnly`, null when any is missing (none is run). */
function evaluate(state: Extract<RunState, { kind: 'finished' }>, s: Settings, commands: string[], pageOnly = false): EvalResult[] | null {
  const weights = checkpointWeightsPath(state.dir);
  const planned = plannedEvaluations(state.dir, s);
  for (const e of planned) commands.push(`d2r ${e.args.join(' ')}`);
  const missing = planned.filter((e) => !isCurrent(e.path, e.attacks, weights, s));
  if (pageOnly && missing.length > 0) return null;
  for (const e of missing) d2r(e.args);
  return planned.map((e) => readEval(e.path));
}

/**
 * What a trained run's evaluations hold before all are written: the current ones, and the AutoAttack
 * evaluation's state file (d2r eval saves it after every batch) when it is of these weights and settings.
 */
function evaluationProgress(state: Extract<RunState, { kind: 'finished' }>, s: Settings): EvalProgress {
  const weights = checkpointWeightsPath(state.dir);
  const results = plannedEvaluations(state.dir, s).map((e) => (isCurrent(e.path, e.attacks, weights, s) ? readEval(e.path) : null));
  return { results, autoAttack: autoAttackSoFar(evaluationStatePath(join(state.dir, EVAL_FILE)), weights, s) };
}

/** The AutoAttack attacks an interrupted or running evaluation has finished, or null (no state, or one of other weights or settings). */
function autoAttackSoFar(file: string, weights: string, s: Settings): EvalProgress['autoAttack'] {
  if (!existsSync(file)) return null;
  // Unreadable JSON shows as no progress here; resuming the evaluation reports what is wrong with the file.
  const json = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  const parsed = evaluationStateSchema.safeParse(json(readFileSync(file, 'utf8')));
  if (!parsed.success || parsed.data.attacks.length === 0) return null;
  const st = parsed.data;
  // The key is d2r eval's record of what it evaluates: the settings and the weights' sha256.
  const key = (json(st.key) ?? {}) as { settings?: Record<string, unknown>; weightsSha256?: string };
  const c = key.settings ?? {};
  const same =
    key.weightsSha256 === fileSha256(weights) &&
    c['n'] === s.n &&
    c['seed'] === s.seed &&
    c['protocol'] === s.protocol &&
    JSON.stringify(c['attacks']) === JSON.stringify([s.autoAttack]);
  if (!same) return null;
  return {
    cleanAccuracy: st.cleanCorrect.length > 0 ? share(st.cleanCorrect) : null,
    done: st.attacks.map((a) => a.name),
    robustAccuracy: st.attacks.at(-1)!.robustAccuracy,
  };
}

/** The row of a trained run still evaluating: the evaluations written, AutoAttack so far as an upper bound. */
function evaluatingRow(r: Row, s: Extract<RunState, { kind: 'finished' }>): string {
  const { results, autoAttack } = r.progress!;
  const clean = results.find((e) => e !== null)?.cleanAccuracy ?? autoAttack?.cleanAccuracy ?? null;
  const cells = results.map((e, i) => {
    if (e !== null) return pct(e.robustAccuracy);
    if (i === results.length - 1 && autoAttack) return `≤ ${pct(autoAttack.robustAccuracy)} (after ${autoAttack.done.join(', ')})`;
    return '';
  });
  return (
    `| \`${s.name}\` | ${s.what} | ${s.planned}/${s.planned}, evaluation in progress | ${clean === null ? '' : pct(clean)} | ` +
    `${cells.join(' | ')} | | ${trainingTime(s.epochs)} | ${curveSummary(s.epochs)} |`
  );
}

function tableRow(r: Row): string {
  const s = r.state;
  const name = `\`${s.name}\``;
  if (s.kind === 'not started') return `| ${name} | ${s.what} | not started | | | | | | | |`;
  if (s.kind === 'in progress') return `| ${name} | ${s.what} | in progress (epoch ${s.done}/${s.planned}) | | | | | | | |`;
  if (r.evals === null) return evaluatingRow(r, s);
  const evals = r.evals;
  const robust = evals.map((e) => e.points?.robust ?? []);
  const sameIndices = evals.every((e) => JSON.stringify(e.points?.index) === JSON.stringify(evals[0]!.points?.index));
  if (!sameIndices) throw new Error(`${s.dir}: the evaluations ran on different points; delete them to rerun`);
  const worst = robust[0]!.map((_, i) => robust.every((flags) => flags[i]));
  return (
    `| ${name} | ${s.what} | ${s.epochs.at(-1)!.epoch}/${s.planned} | ${pct(evals[0]!.cleanAccuracy)} | ` +
    evals.map((e) => pct(e.robustAccuracy)).join(' | ') +
    ` | ${pct(share(worst))} | ${trainingTime(s.epochs)} | ${curveSummary(s.epochs)} |`
  );
}

/** The per-epoch check of every started run (test clean / PGD accuracy), so the curves can be read before a run finishes. */
function curves(rows: Row[]): string[] {
  const started = rows.flatMap((r) => (r.state.kind === 'not started' ? [] : [r.state]));
  if (started.length === 0) return ['No run has started yet.'];
  const longest = Math.max(...started.map((s) => s.planned));
  const epochs = Array.from({ length: longest }, (_, i) => i + 1);
  const cell = (s: (typeof started)[number], epoch: number): string => {
    const e = s.epochs.find((row) => row.epoch === epoch);
    return e ? `${pct(e.testCleanAccuracy)} / ${pct(e.testRobustAccuracy)}` : '';
  };
  const guidance = (s: (typeof started)[number]): string => {
    const last = s.epochs.at(-1);
    return last?.guidanceCleanAccuracy == null
      ? ''
      : ` (guidance at epoch ${last.epoch}: ${pct(last.guidanceCleanAccuracy)} / ${pct(last.guidanceRobustAccuracy)})`;
  };
  return [
    `| run | ${epochs.map((e) => `epoch ${e}`).join(' | ')} |`,
    `|---|${epochs.map(() => '---').join('|')}|`,
    ...started.map((s) => `| \`${s.name}\`${guidance(s)} | ${epochs.map((e) => cell(s, e)).join(' | ')} |`),
  ];
}

function page(rows: Row[], s: Settings, commands: string[], study: string, report: string | null, outFile: string): string {
  const finished = rows.filter((r) => r.state.kind === 'finished');
  const evaluated = finished.filter((r) => r.evals !== null);
  const inProgress = rows.filter((r) => r.state.kind !== 'finished');
  const rel = (p: string): string => relative(dirname(outFile), p) || '.';
  return [
    '# The methods study on Fashion-MNIST',
    '',
    'Written by `experiments/study-results.ts` from the runs of `experiments/study.sh` in ' +
      `\`${study}\`: six methods, three D2R ablations and two D2R variants, smallcnn (D2R and LBGAT: smallcnn guidance), eps 0.1, ` +
      "10-step generation of step 0.01, `--recipe shared` (D2R's recipe for every method), seed 0. " +
      `Each run's directory (its files and latest checkpoint) is committed in [${basename(STORE)}/](${rel(resolve(STORE))}/) ` +
      '(`experiments/study-store.sh save`), so the study goes on from there on another machine (`restore`).',
    '',
    `Evaluation: the first ${s.n} test points, seed ${s.seed}, eps as the run (0.1, L-inf), protocol \`${s.protocol}\` ` +
      '(docs/protocol.md). PGD-20, CW-20 and AutoAttack (standard: APGD-CE, APGD-T, FAB-T, Square) each run on their own ' +
      "(the AutoAttack evaluation is each run's eval.json, the attack table of the report); " +
      '"worst case" counts a point robust only when it survives all three. Clean is the share of those points classified correctly.',
    '',
    `${finished.length} of ${rows.length} runs trained, ${evaluated.length} evaluated.` +
      (inProgress.length || evaluated.length < finished.length
        ? ' Unfinished runs are listed as they stand: a run still training has no results yet; a run still evaluating shows ' +
          'the evaluations written so far, and for an AutoAttack under way the robust accuracy after the attacks it has run ' +
          '(marked ≤: the attacks still to run can only lower it). Its worst case waits for all three.'
        : ''),
    '',
    `| run | what | epochs | clean | PGD-20 | CW-20 | ${s.autoAttack === 'autoattack' ? 'AutoAttack' : `${s.autoAttack} (not the full AutoAttack)`} | worst case | training time | last epochs: test accuracy, change (points) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(tableRow),
    '',
    '## What the table shows and what it does not',
    '',
    "- Training time is the sum of the epochs' seconds in each run's metrics.jsonl (each epoch's check on " +
      'the test points included), on the machine and thread count of the run; runs that shared the machine ' +
      'with other work, or were paused (SIGSTOP) while the test suite ran, took longer than alone.',
    `- The last column compares the per-epoch check of \`d2r train\` (clean and PGD accuracy on the run's first test points) ` +
      `${FLAT_WINDOW} epochs before the last with the last: a change near zero says the curve has flattened. ` +
      'It is the training-time check, not the evaluation above.',
    `- Every run has the same ${SHARED_SETTINGS.join(', ')} (this page refuses a study whose runs differ); only the method's ` +
      'own settings differ. The first 8-epoch runs of standard, TRADES, MART and LBGAT had trained under the short-run ' +
      `defaults (batch 16, lr 0.02) and were set aside: [short-runs.md](${rel(resolve(SHORT_RUNS))}). ` +
      `What else was set aside or lost, and what those runs measured: [${basename(HISTORY)}](${rel(resolve(HISTORY))}).`,
    ...(() => {
      const replanned = replannedRuns(rows);
      return replanned.length
        ? [
            `- Runs resumed with another number of epochs than they started with: ${replanned.join('; ')}. ` +
              'This page checks that each epoch trained under the earlier plan had the lr the final schedule gives it, and every other shared setting the final one (it refuses the run otherwise).',
          ]
        : [];
    })(),
    "- The table compares the methods under one recipe, not each at its best: D2R's recipe (batch 128, lr 0.01, " +
      'lr/10 and lr/100 in the last two epochs) learns slowly on this data set. One epoch of PGD-AT under the ' +
      'short-run defaults (batch 16, peak lr 0.02) reaches 79.7% clean / 69.0% PGD-20 at the same per-epoch check, about what eight ' +
      `epochs of PGD-AT under the recipe reached (81.0% / 67.2% at the last check of the first such run, [${basename(HISTORY)}](${rel(resolve(HISTORY))})) ` +
      `([short-runs.md](${rel(resolve(SHORT_RUNS))}), which also shows why the defaults are unsafe for eight epochs of MART). ` +
      "The recipe's last two epochs also flatten the curves by lowering the lr: read the last column with that in mind.",
    ...(() => {
      const sentence = flatness(rows);
      return sentence ? [sentence] : [];
    })(),
    '- One seed and one data order per run: differences of a point or two are within what another seed could give.',
    '- The numbers are from a small network on Fashion-MNIST; they say nothing on their own about WRN/ResNet on CIFAR.',
    `- Why D2R's target trails and what the two variants test: [d2r-investigation.md](${rel(resolve(INVESTIGATION))}).`,
    '',
    '## Per-epoch check',
    '',
    "Each epoch's training-time check of the target (clean / PGD accuracy in %, on the run's first test points, " +
      'the PGD of `--eval-steps`), for every run that has started, finished or not:',
    '',
    ...curves(rows),
    '',
    '## Commands',
    '',
    "Training, each start of each run as its metrics.jsonl records it (`experiments/study.sh` ran them; a resume continues the run's recorded settings with the flags it names):",
    '',
    '```',
    ...rows.flatMap((r) => trainingCommands(r.state)),
    '```',
    '',
    'Evaluation (rerun `node dist/experiments/study-results.js` to repeat all of them):',
    '',
    '```',
    ...commands,
    ...(report ? [`d2r report ${evaluated.map((r) => (r.state.kind === 'finished' ? r.state.dir : '')).join(' ')} --out ${report}`] : []),
    '```',
    '',
    '## Report',
    '',
    report
      ? `The multi-run report of the finished runs: [${rel(join(report, 'index.html'))}](${rel(join(report, 'index.html'))}), with its PNG charts beside it.`
      : 'No run has finished yet, so there is no report.',
    '',
  ].join('\n');
}

function main(): void {
  const { values } = parseArgs({
    options: {
      study: { type: 'string', default: 'runs/study' },
      out: { type: 'string', default: 'docs/results/fashion-mnist.md' },
      n: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '0' },
      protocol: { type: 'string', default: 'ours' },
      autoattack: { type: 'string', default: 'autoattack' },
      threads: { type: 'string' },
      evaluate: { type: 'string' },
      // Writes the page from the evaluations already on disk, running none (safe while a lane evaluates).
      'page-only': { type: 'boolean', default: false },
    },
  });
  const number = (flag: string, v: string, min: number): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${flag}: expected an integer >= ${min}, got '${v}'`);
    return x;
  };
  if (!(EVAL_PROTOCOLS as readonly string[]).includes(values.protocol!))
    throw new Error(`--protocol: expected one of ${EVAL_PROTOCOLS.join(', ')}, got '${values.protocol}'`);
  const s: Settings = {
    n: number('n', values.n!, 1),
    seed: number('seed', values.seed!, 0),
    protocol: values.protocol as EvalProtocol,
    autoAttack: values.autoattack!,
    threads: values.threads === undefined ? null : number('threads', values.threads, 1),
  };
  const study = values.study!;
  if (!existsSync(study) || !statSync(study).isDirectory())
    throw new Error(`--study ${study}: not a directory (written by experiments/study.sh)`);
  const outFile = resolve(values.out!);
  const commands: string[] = [];
  if (values.evaluate !== undefined) {
    const run = STUDY_RUNS.find((r) => r.name === values.evaluate);
    if (!run) throw new Error(`--evaluate: expected one of ${STUDY_RUNS.map((r) => r.name).join(', ')}, got '${values.evaluate}'`);
    const state = runState(study, run);
    if (state.kind !== 'finished') throw new Error(`--evaluate ${run.name}: the run is ${state.kind}, not finished`);
    evaluate(state, s, commands);
    return;
  }
  checkSharedSettings(study, STUDY_RUNS);
  const rows: Row[] = STUDY_RUNS.map((run) => {
    const state = runState(study, run);
    if (state.kind !== 'finished') return { state, evals: null, progress: null };
    const evals = evaluate(state, s, commands, values['page-only']);
    return { state, evals, progress: evals === null ? evaluationProgress(state, s) : null };
  });
  const finishedDirs = rows.flatMap((r) => (r.state.kind === 'finished' && r.evals !== null ? [r.state.dir] : []));
  const reportDir = finishedDirs.length > 0 ? outFile.replace(/\.md$/i, '') : null;
  if (reportDir) {
    mkdirSync(reportDir, { recursive: true });
    d2r(['report', ...finishedDirs, '--out', reportDir, '--title', 'The methods study on Fashion-MNIST']);
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileAtomic(outFile, page(rows, s, commands, study, reportDir && relative(process.cwd(), reportDir), outFile));
  process.stdout.write(`${outFile}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`study-results: ${(err as Error).message}\n`);
  process.exit(1);
}
