// The process group of this process: rendezvous, identity and the collectives,
// on PyTorch's c10d (Gloo on CPU, NCCL in CUDA builds). One group per process,
// as torch.distributed's default group; every collective blocks until done.
import { Tensor } from '../tensor.js';
import { cudaIsAvailable } from '../functions.generated.js';
import { DistributedOptionError, asDistributedError, collective } from './errors.js';
import { native } from '../native.js';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'mean' | 'max' | 'min';

export interface InitOptions {
  /** Default: 'nccl' where libtorch has CUDA and NCCL, else 'gloo'. */
  backend?: Backend;
  /** Default: environment variable RANK. */
  rank?: number;
  /** Default: environment variable WORLD_SIZE. */
  worldSize?: number;
  /** The host of rank 0, which serves the rendezvous store. Default: MASTER_ADDR, else 127.0.0.1. */
  masterAddr?: string;
  /** Default: MASTER_PORT, else 29500 (PyTorch's). */
  masterPort?: number;
  /** How long a rank waits for its peers (rendezvous and each collective) before failing. Default: 60. */
  timeoutSeconds?: number;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;
const DEFAULT_MASTER_ADDR = '127.0.0.1';
const DEFAULT_MASTER_PORT = 29500;

/** The backends this build of the addon can create. */
export function availableBackends(): Backend[] {
  return native.distBackends() as Backend[];
}

/** An integer setting: the option, else the environment variable, else the fallback. */
function integerSetting(
  option: string,
  given: number | undefined,
  variable: string,
  check: { min: number; max?: number; what: string },
  fallback?: number,
): number {
  const raw = process.env[variable];
  let value = given;
  let source: string | undefined;
  if (value === undefined && raw !== undefined && raw !== '') {
    value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    source = variable;
  }
  if (value === undefined) value = fallback;
  if (value === undefined) {
    throw new DistributedOptionError(option, `${check.what} (or environment variable ${variable})`, 'nothing');
  }
  if (!Number.isInteger(value) || value < check.min || (check.max !== undefined && value > check.max)) {
    throw new DistributedOptionError(option, check.what, source ? JSON.stringify(raw) : String(value), source);
  }
  return value;
}

function resolveBackend(given: Backend | undefined): Backend {
  if (given !== undefined) {
    if (given !== 'gloo' && given !== 'nccl') throw new DistributedOptionError('backend', "'gloo' or 'nccl'", JSON.stringify(given));
    return given;
  }
  return cudaIsAvailable() && availableBackends().includes('nccl') ? 'nccl' : 'gloo';
}

/**
 * Joins the process group: rank 0 serves a TCPStore at masterAddr:masterPort,
 * every rank meets there, then the backend connects them. Resolves once all
 * worldSize ranks have joined; rejects with a DistributedError naming the ranks
 * that did not join within the timeout. The wait runs off the JS thread.
 */
export async function initProcessGroup(opts: InitOptions = {}): Promise<void> {
  const backend = resolveBackend(opts.backend);
  const worldSize = integerSetting('worldSize', opts.worldSize, 'WORLD_SIZE', { min: 1, what: 'a positive integer' });
  const rank = integerSetting('rank', opts.rank, 'RANK', { min: 0, max: worldSize - 1, what: `an integer in [0, ${worldSize - 1}]` });
  const masterPort = integerSetting(
    'masterPort',
    opts.masterPort,
    'MASTER_PORT',
    { min: 1, max: 65535, what: 'a port in [1, 65535]' },
    DEFAULT_MASTER_PORT,
  );
  const masterAddr = opts.masterAddr ?? (process.env.MASTER_ADDR || DEFAULT_MASTER_ADDR);
  if (masterAddr === '') throw new DistributedOptionError('masterAddr', 'a host name or address', 'an empty string');
  const timeoutSeconds = opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0) || !Number.isFinite(timeoutSeconds)) {
    throw new DistributedOptionError('timeoutSeconds', 'a positive number of seconds', String(timeoutSeconds));
  }
  try {
    // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch.
    await native.distInit(
      backend,
      rank,
      worldSize,
      masterAddr,
      masterPort,
      Math.round(timeoutSeconds * 1000),
      process.env.GLOO_SOCKET_IFNAME ?? '',
    );
  } catch (err) {
    throw asDistributedError(err);
  }
}

export function isInitialized(): boolean {
  return native.distState() !== null;
}

/** This process's rank in the group; 0 outside a group (a process alone is a group of one). */
export function rank(): number {
  return native.distState()?.rank ?? 0;
}

/** The number of processes in the group; 1 outside a group. */
export function worldSize(): number {
  return native.distState()?.worldSize ?? 1;
}

/** The rank among the processes of this machine: LOCAL_RANK (set by torchrun and d2r's launcher), else the rank. */
export function localRank(): number {
  const raw = process.env.LOCAL_RANK;
  if (raw !== undefined && /^\s*\d+\s*$/.test(raw)) return Number(raw);
  return rank();
}

/** Reduces `t` over all ranks, in place: every rank ends with the result. avg and mean: the sum / worldSize. */
export function allReduce(t: Tensor, op: ReduceOp = 'sum'): void {
  collective(() => native.distAllReduce_(t.handle, op));
}

/**
 * The sum of `t` over all ranks, as a new tensor that autograd follows: its
 * backward sums the incoming gradient over ranks (every rank must then call
 * backward through it, as it called the forward). For statistics of the
 * global batch inside a model (synchronised batch norm, docs/distributed.md).
 */
export function differentiableAllReduce(t: Tensor): Tensor {
  return new Tensor(collective(() => native.distAllReduceSum(t.handle)));
}

/** Copies rank `src`'s values of `t` into `t` on every rank. */
export function broadcast(t: Tensor, src: number): void {
  collective(() => native.distBroadcast_(t.handle, src));
}

/** Every rank's `t` (same shape and dtype on all), in rank order, as new tensors. */
export function allGather(t: Tensor): Tensor[] {
  return collective(() => native.distAllGather(t.handle)).map((h) => new Tensor(h));
}

/** Returns once every rank has called barrier(). */
export function barrier(): void {
  collective(() => native.distBarrier());
}

/** Leaves the group (closes its connections; rank 0 stops serving the store). Does nothing outside a group. */
export function destroyProcessGroup(): void {
  native.distDestroy();
}
