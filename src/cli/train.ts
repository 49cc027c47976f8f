// `d2r train`: flags from the settings schema, a progress bar per epoch and a
// line per finished epoch from the trainer's events.
import { UsageError, flagsFromSchema, helpText, parseFlags, type FlagSpec } from './flags.js';
import { LAUNCH_FLAGS, launchWorkers, placementOf, threadsPerProcess, workerEnvironment, type WorkerEnvironment } from './launch.js';
import { Progress } from './progress.js';
import { TRAIN_DEFAULTS, resolveTrainConfig, trainSettingsSchema, type TrainConfig } from '../train/config.js';
import { train, TrainingDivergedError, type TrainingEvents } from '../train/trainer.js';
import type { ScheduleStep } from '../train/schedule.js';
import { readRunConfigFile } from '../train/runFiles.js';
import { checkBatchSplit } from '../train/dataParallel.js';
import { destroyProcessGroup, initProcessGroup } from '../engine/distributed/index.js';
import { exitCodeFor } from '../io/stopSignals.js';

export const TRAIN_FLAGS = flagsFromSchema(trainSettingsSchema, TRAIN_DEFAULTS);

/** Flags of the command rather than settings of the run (not recorded in config.json). */
const RUN_DIRECTORY_FLAGS: FlagSpec[] = [
  {
    name: 'overwrite',
    type: 'boolean',
    default: false,
    help: 'a fresh run into --out replaces the run there (its files only; other files stay)',
  },
];

const SUMMARY = 'Trains a target model (and a guidance model for d2r/lbgat); writes config.json, metrics.jsonl and checkpoints to --out.';

/** E.g. "schedule (recipe reference: trades): epochs 1-74 lr 0.1, 75-76 lr 0.01; weight decay 0.0002, momentum 0.9". */
export function scheduleLine(config: TrainConfig, steps: ScheduleStep[]): string {
  const epochs = (s: ScheduleStep): string => (s.from === s.to ? `epoch ${s.from}` : `epochs ${s.from}-${s.to}`);
  const lr = (v: number): string => String(Number(v.toPrecision(6)));
  return (
    `schedule (recipe ${config.recipe}: ${config.method}, ${config.schedule}): ` +
    steps.map((s) => `${epochs(s)} lr ${lr(s.lr)}${s.perBatch ? ` (${s.perBatch})` : ''}`).join(', ') +
    `; weight decay ${config.weightDecay}, momentum ${config.momentum}`
  );
}

/** The trainer's events as a progress bar per epoch and a line per finished epoch, on stderr. */
function trainingOutput(config: TrainConfig): TrainingEvents {
  const say = (line: string): void => void process.stderr.write(line + '\n');
  let bar: Progress | null = null;
  return {
    onSchedule: (steps) => say(scheduleLine(config, steps)),
    onResume: (epoch, batch) =>
      say(`resuming ${config.out} after epoch ${epoch}` + (batch === undefined ? '' : `, at batch ${batch} of epoch ${epoch + 1}`)),
    onNote: (message) => say(`note: ${message}`),
    onInterrupt: (signal) =>
      say(`interrupt received: stopping after this batch (${signal}); the batches done are checkpointed (resume with --resume)`),
    onEpochStart: (epoch, batches, firstBatch) => {
      bar = new Progress(`epoch ${epoch}/${config.epochs}`, batches, 'batch', firstBatch);
    },
    onBatch: (_epoch, _done, r) => bar?.tick(1, { loss: r.loss, acc: r.accuracy, lr: r.lr }),
    onEpochTrained: () => {
      bar?.finish();
      bar = null;
    },
    onEpochEnd: (row) =>
      say(
        `epoch ${row.epoch}/${config.epochs}: loss ${row.trainLoss.toFixed(4)} train acc ${(100 * row.trainAccuracy).toFixed(2)}% ` +
          (row.testCleanAccuracy === null ? 'not evaluated (--eval-n 0)' : `test clean ${(100 * row.testCleanAccuracy).toFixed(2)}%`) +
          (row.testRobustAccuracy === null ? '' : ` PGD-${config.evalSteps} ${(100 * row.testRobustAccuracy).toFixed(2)}%`) +
          ` (${row.seconds.toFixed(1)} s)`,
      ),
  };
}

export async function trainCommand(argv: string[]): Promise<number> {
  const specs = [...TRAIN_FLAGS, ...RUN_DIRECTORY_FLAGS, ...LAUNCH_FLAGS];
  let parsed = parseFlags(argv, specs);
  if (parsed !== null && parsed['resume'] === true) {
    // A resumed run continues with the settings it recorded; flags given now override them
    // (and the trainer refuses any that may not change, such as the method).
    const recorded = readRunConfigFile(String(parsed['out']))?.config;
    if (recorded) {
      const { out: _out, resume: _resume, ...settings } = recorded;
      // null records "not set" (the default applies again), as a flag left out.
      parsed = parseFlags(argv, specs, { base: Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null)) });
    }
  }
  if (parsed === null) {
    process.stdout.write(helpText('train', SUMMARY, specs));
    return 0;
  }
  const { overwrite, nprocPerNode, nnodes, nodeRank, masterAddr, masterPort, distTimeout, ...flags } = parsed;
  const placement = placementOf({ nprocPerNode, nnodes, nodeRank, masterAddr, masterPort });
  const config = resolveTrainConfig(flags);
  const worker = workerEnvironment();
  if (placement !== null && worker !== null)
    throw new UsageError(
      `--nproc-per-node starts processes, but this one already is rank ${worker.rank} of ${worker.worldSize} (RANK and WORLD_SIZE are set): leave it to the launcher`,
    );
  if (placement !== null && placement.nprocPerNode * placement.nnodes > 1) {
    checkBatchSplit(config.batchSize, config.limit, placement.nprocPerNode * placement.nnodes);
    return await launchWorkers(argv, placement);
  }
  if (worker !== null) {
    // Unset threads: the machine's cores shared out among its processes of the run.
    const threads = config.threads > 0 ? config.threads : threadsPerProcess(worker.localWorldSize);
    return await trainWorker({ ...config, threads }, worker, distTimeout as number, overwrite === true);
  }
  return await trainAndReport(config, overwrite === true);
}

/** One rank of a data-parallel run: joins the process group, trains its part; rank 0 alone reports. */
async function trainWorker(config: TrainConfig, worker: WorkerEnvironment, timeoutSeconds: number, overwrite: boolean): Promise<number> {
  const { rank, worldSize, masterAddr, masterPort } = worker;
  await initProcessGroup({ rank, worldSize, masterAddr, masterPort, timeoutSeconds });
  try {
    // Rank 0 alone tells the progress and the results.
    return await trainAndReport(config, overwrite, worker.rank !== 0);
  } finally {
    destroyProcessGroup();
  }
}

async function trainAndReport(config: TrainConfig, overwrite: boolean, quiet = false): Promise<number> {
  let result;
  try {
    result = await train(config, quiet ? {} : trainingOutput(config), { overwrite });
  } catch (err) {
    if (err instanceof TrainingDivergedError) throw new Error(`${err.message} Try a lower --lr.`);
    throw err;
  }
  const last = result.epochs[result.epochs.length - 1];
  if (quiet) return result.signal ? exitCodeFor(result.signal) : 0;
  process.stdout.write(
    `${config.out}: ${result.epochs.length} epochs, ${result.seconds.toFixed(1)} s` +
      (last?.testCleanAccuracy != null ? `, test clean accuracy ${(100 * last.testCleanAccuracy).toFixed(2)}%` : '') +
      (last?.testRobustAccuracy != null ? `, PGD-${config.evalSteps} ${(100 * last.testRobustAccuracy).toFixed(2)}%` : '') +
      (result.stoppedAt
        ? ` (interrupted at batch ${result.stoppedAt.batch} of epoch ${result.stoppedAt.epoch}, checkpointed; continue with --resume)`
        : result.interrupted
          ? ' (interrupted; continue with --resume)'
          : '') +
      '\n',
  );
  return result.signal ? exitCodeFor(result.signal) : 0;
}
