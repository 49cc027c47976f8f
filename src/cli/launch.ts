// `d2r train --nproc-per-node N`: starts N training workers on this machine, as
// torchrun does (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT in each
// worker's environment), and ends the whole run when any worker fails. A
// process that finds those variables set is a worker and joins the group, so
// torchrun, srun or a Kubernetes job can start the workers instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { camel, type FlagSpec } from './flags.js';
import { OptionError, MissingOptionError } from '../io/errors.js';
import { exitCodeFor } from '../io/stopSignals.js';

/** Flags that place the processes of a run; --dist-timeout also reaches every worker. */
export const LAUNCH_FLAGS: FlagSpec[] = [
  {
    name: 'nproc-per-node',
    type: 'integer',
    min: 1,
    help: 'training processes to start on this machine (data-parallel; --batch-size stays the global batch)',
  },
  { name: 'nnodes', type: 'integer', min: 1, default: 1, help: 'machines of the run, each starting --nproc-per-node processes' },
  { name: 'node-rank', type: 'integer', min: 0, default: 0, help: 'this machine among --nnodes (0 hosts the rendezvous)' },
  { name: 'master-addr', type: 'string', help: 'address of machine 0 (needed with --nnodes above 1; default 127.0.0.1)' },
  {
    name: 'master-port',
    type: 'integer',
    min: 1,
    help: 'rendezvous port on machine 0 (default: a free port on one machine, 29500 on several)',
  },
  {
    name: 'dist-timeout',
    type: 'number',
    min: 1,
    default: 600,
    help: 'seconds a process waits for the others (a dead or stuck peer ends the run after this)',
  },
];

/** The flags the launcher consumes; the workers get every other argument as it was given. */
const PLACEMENT_FLAGS = LAUNCH_FLAGS.filter((f) => f.name !== 'dist-timeout').map((f) => f.name);

/** torchrun's environment: this process's rank in the group and how to reach rank 0. */
export interface WorkerEnvironment {
  rank: number;
  worldSize: number;
  localRank: number;
  /** The processes of the run on this machine (torchrun's LOCAL_WORLD_SIZE; 1 when unset). */
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

/** The torchrun variables of this process, when a launcher set them (WORLD_SIZE above 1); else null. */
export function workerEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerEnvironment | null {
  if (env['WORLD_SIZE'] === undefined || Number(env['WORLD_SIZE']) === 1) return null;
  const read = (name: string, fallback?: string): number => {
    const text = env[name] ?? fallback;
    const value = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < 0)
      throw new OptionError(name, 'a non-negative integer in the environment (as torchrun sets it)', JSON.stringify(text ?? null));
    return value;
  };
  const worldSize = read('WORLD_SIZE');
  const rank = read('RANK');
  if (worldSize < 1 || rank >= worldSize) throw new OptionError('RANK', `a rank below WORLD_SIZE ${worldSize}`, String(rank));
  return {
    rank,
    worldSize,
    localRank: read('LOCAL_RANK', '0'),
    localWorldSize: Math.max(1, read('LOCAL_WORLD_SIZE', '1')),
    masterAddr: env['MASTER_ADDR'] ?? '127.0.0.1',
    masterPort: read('MASTER_PORT', '29500'),
  };
}

/** libtorch threads of each of `processes` processes on this machine: its cores shared out. */
export function threadsPerProcess(processes: number): number {
  return Math.max(1, Math.floor(availableParallelism() / processes));
}

/** The arguments without the placement flags (both `--flag value` and `--flag=value`). */
export function workerArguments(argv: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)/.exec(argv[i]!)?.[1];
    if (name === undefined || !PLACEMENT_FLAGS.includes(name)) kept.push(argv[i]!);
    else if (!argv[i]!.includes('=')) i++;
  }
  return kept;
}

/** A port nobody listens on now (the rendezvous of a run on one machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export interface Placement {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string | null;
  masterPort: number | null;
}

/** The placement flags' values from parsed flags (camelCase); null when --nproc-per-node is absent. */
export function placementOf(flags: Record<string, unknown>): Placement | null {
  const value = (name: string): unknown => flags[camel(name)];
  if (value('nproc-per-node') === undefined) {
    for (const name of PLACEMENT_FLAGS.filter((n) => n !== 'nnodes' && n !== 'node-rank'))
      if (value(name) !== undefined)
        throw new MissingOptionError('nprocPerNode', 'the processes to start on this machine', {
          option: camel(name),
          value: String(value(name)),
        });
    return null;
  }
  const placement: Placement = {
    nprocPerNode: value('nproc-per-node') as number,
    nnodes: value('nnodes') as number,
    nodeRank: value('node-rank') as number,
    masterAddr: (value('master-addr') as string | undefined) ?? null,
    masterPort: (value('master-port') as number | undefined) ?? null,
  };
  if (placement.nodeRank >= placement.nnodes)
    throw new OptionError('nodeRank', `a machine below --nnodes ${placement.nnodes}`, String(placement.nodeRank));
  if (placement.nnodes > 1 && placement.masterAddr === null)
    throw new MissingOptionError('masterAddr', 'the address of machine 0', { option: 'nnodes', value: String(placement.nnodes) });
  return placement;
}

const say = (line: string): void => void process.stderr.write(line + '\n');

/** How a worker ended, in words. */
function ending(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Seconds the other workers get to end after one failed, before they are killed. */
const STOP_GRACE_SECONDS = 5;

/**
 * Starts this machine's workers of a run: each runs `d2r train` with `argv` (less the
 * placement flags) and torchrun's variables. Resolves to the run's exit code: 0 when every worker
 * succeeded; else the first failure's, after the other workers were stopped.
 */
export async function launchWorkers(argv: string[], placement: Placement): Promise<number> {
  const { nprocPerNode, nnodes, nodeRank } = placement;
  const worldSize = nprocPerNode * nnodes;
  const masterAddr = placement.masterAddr ?? '127.0.0.1';
  const masterPort = placement.masterPort ?? (nnodes === 1 ? await freePort() : 29500);
  const args = workerArguments(argv);
  const workers: { rank: number; child: ChildProcess; done: boolean }[] = [];
  for (let localRank = 0; localRank < nprocPerNode; localRank++) {
    const rank = nodeRank * nprocPerNode + localRank;
    const env = {
      ...process.env,
      RANK: String(rank),
      WORLD_SIZE: String(worldSize),
      LOCAL_RANK: String(localRank),
      LOCAL_WORLD_SIZE: String(nprocPerNode),
      GROUP_RANK: String(nodeRank),
      MASTER_ADDR: masterAddr,
      MASTER_PORT: String(masterPort),
    };
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'train', ...args], { stdio: 'inherit', env });
    workers.push({ rank, child, done: false });
  }
  say(
    `started ${nprocPerNode} of ${worldSize} processes (rendezvous ${masterAddr}:${masterPort}): ` +
      workers.map((w) => `rank ${w.rank} pid ${w.child.pid}`).join(', '),
  );

  return await new Promise<number>((resolve) => {
    let result = 0;
    let interrupts = 0;
    let killTimer: NodeJS.Timeout | undefined;
    const running = (): typeof workers => workers.filter((w) => !w.done);
    const stopAll = (): void => {
      for (const w of running()) w.child.kill('SIGTERM');
      killTimer ??= setTimeout(() => running().forEach((w) => w.child.kill('SIGKILL')), STOP_GRACE_SECONDS * 1000);
    };
    // The terminal's Ctrl-C reaches every worker too; a second one ends them at once.
    const onInterrupt = (): void => {
      interrupts++;
      for (const w of running()) w.child.kill(interrupts === 1 ? 'SIGINT' : 'SIGKILL');
    };
    const onTerminate = (): void => stopAll();
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
    for (const w of workers) {
      w.child.on('exit', (code, signal) => {
        w.done = true;
        // A worker stopped by a signal (the launcher's Ctrl-C or SIGTERM) ends the run with the shell's code for it.
        if (code === exitCodeFor('SIGINT') || code === exitCodeFor('SIGTERM')) result ||= code;
        else if (code !== 0 && result !== 1) {
          say(`d2r train: rank ${w.rank} (pid ${w.child.pid}) ${ending(code, signal)}; stopping the other processes`);
          result = 1;
          stopAll();
        }
        if (running().length === 0) {
          clearTimeout(killTimer);
          process.removeListener('SIGINT', onInterrupt);
          process.removeListener('SIGTERM', onTerminate);
          resolve(result);
        }
      });
    }
  });
}
