// One rank of the distributed tests (started by workers.ts with torchrun's
// variables): runs the scenario named by argv[2] through the library and
// prints one JSON line with what it saw.
import { readFileSync } from 'node:fs';
import { distributed, nn, optim, torch, type Tensor } from '../../src/index.js';
import { TinyBnCnn } from './tinyBnCnn.js';

const TIMEOUT_SECONDS = Number(process.env.D2R_TEST_TIMEOUT ?? '5');

function values(t: Tensor): number[] {
  return t.toNumbers();
}

/** Every collective once, on values that differ by rank. */
function collectives(): Record<string, unknown> {
  const rank = distributed.rank();
  const out: Record<string, unknown> = { rank, worldSize: distributed.worldSize(), localRank: distributed.localRank() };
  for (const op of ['sum', 'avg', 'mean', 'max', 'min'] as const) {
    const t = torch.tensor([rank + 1, -10 * (rank + 1), 0.5]);
    distributed.allReduce(t, op);
    out[op] = values(t);
  }
  const ints = torch.tensor([rank + 1, 7], { dtype: 'int64' });
  distributed.allReduce(ints);
  out.sumInt64 = values(ints);
  // A non-contiguous tensor is reduced in place all the same.
  const transposed = torch
    .tensor([rank, rank + 1, rank + 2, rank + 3])
    .reshape([2, 2])
    .transpose(0, 1);
  distributed.allReduce(transposed);
  out.sumTransposed = values(transposed.contiguous());
  const b = torch.tensor([rank * 100 + 1, rank * 100 + 2]);
  distributed.broadcast(b, 1);
  out.broadcastFrom1 = values(b);
  out.allGather = distributed.allGather(torch.tensor([rank, rank * 2])).map(values);
  distributed.barrier();
  out.barrier = true;
  try {
    distributed.allReduce(torch.tensor([1], { dtype: 'int64' }), 'avg');
  } catch (err) {
    out.avgIntError = (err as Error).message;
  }
  return out;
}

/** A small model whose gradients differ by rank, averaged; one parameter unused on rank 1 only, one unused everywhere. */
function gradients(): Record<string, unknown> {
  const rank = distributed.rank();
  torch.manualSeed(1 + rank); // different weights per rank: broadcastFromRank0 must make them equal
  const layer = new nn.Linear(3, 2);
  const extra = torch.ones([2]).requiresGrad_(true);
  const unused = torch.ones([4]).requiresGrad_(true);
  const params = [...layer.parameters(), extra, unused];
  const averager = new distributed.GradientAverager(params, { bucketBytes: 16 }); // tiny buckets: several allreduces
  averager.broadcastFromRank0(params);
  const weights = params.map(values);
  const x = torch.tensor([
    [1 + rank, 2, 3],
    [0.5, -1, 2 * rank],
  ]);
  let loss = layer.forward(x).square().sum();
  if (rank === 0) loss = loss.add(extra.mul(3).sum());
  loss.backward();
  averager.averageGradients();
  return {
    rank,
    buckets: averager.buckets.length,
    weights,
    inputs: values(x),
    grads: params.map((p) => (p.grad ? values(p.grad) : null)),
  };
}

/** After a first barrier, rank `victim` kills itself; the others keep calling collectives. */
function peerDies(victim: number): Record<string, unknown> {
  distributed.barrier();
  if (distributed.rank() === victim) process.kill(process.pid, 'SIGKILL');
  const started = Date.now();
  try {
    for (let i = 0; i < 1000; i++) distributed.allReduce(torch.ones([1000]));
    return { finished: true };
  } catch (err) {
    const e = err as distributed.DistributedError;
    return {
      name: e.name,
      message: e.message,
      failedRank: e.rank ?? null,
      failedRanks: [...e.failedRanks],
      elapsedMs: Date.now() - started,
    };
  }
}

/** Rank 1 does not call the collective (it sleeps past the timeout): rank 0 fails by the timeout. */
function peerStuck(): Record<string, unknown> {
  distributed.barrier();
  const started = Date.now();
  if (distributed.rank() === 1) {
    // Long past the timeout, so rank 0 can only fail by it, even late on a loaded machine.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TIMEOUT_SECONDS * 1000 + 4000);
    return { slept: true };
  }
  try {
    distributed.barrier();
    return { finished: true };
  } catch (err) {
    const e = err as distributed.DistributedError;
    return { name: e.name, message: e.message, failedRank: e.rank ?? null, elapsedMs: Date.now() - started };
  }
}

/** The CNN of test/oracles/ddp.py (no batch norm, no dropout), with its state-dict keys. */
class TinyCnn extends nn.Module {
  conv = new nn.Conv2d(1, 4, 3);
  fc = new nn.Linear(4 * 4 * 4, 3);
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.conv.forward(x).relu().flatten(1));
  }
}

interface TrainInputs {
  weights: Record<string, { shape: number[]; data: number[] }>;
  shards: { x: { shape: number[]; data: number[] }; y: { data: number[] } }[][];
  lr: number;
  momentum: number;
}

/** SGD on this rank's shards of `inputs` from their weights, gradients averaged as DDP does; the state dict after. */
function trainOnShards(model: nn.Module, inputs: TrainInputs): Record<string, number[]> {
  const initial = Object.entries(inputs.weights).map(([k, w]) => [k, torch.tensor(w.data).reshape(w.shape)] as const);
  model.loadStateDict(new Map(initial));
  const params = model.parameters();
  const averager = new distributed.GradientAverager(params);
  averager.broadcastFromRank0(params);
  const opt = new optim.SGD(params, { lr: inputs.lr, momentum: inputs.momentum });
  for (const batch of inputs.shards[distributed.rank()]!) {
    torch.tidy(() => {
      opt.zeroGrad();
      const x = torch.tensor(batch.x.data).reshape(batch.x.shape);
      const y = torch.tensor(batch.y.data, { dtype: 'int64' });
      torch.crossEntropy(model.forward(x), y).backward();
      averager.averageGradients();
      opt.step();
    });
  }
  return Object.fromEntries([...Object.entries(model.stateDict())].map(([k, t]) => [k, t.toNumbers()]));
}

const trainInputs = (): TrainInputs => JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as TrainInputs;

/** TinyCnn trained on this rank's shards of the JSON file argv[3]; rank 0 reports the weights. */
function train(): Record<string, unknown> {
  return { rank: distributed.rank(), weights: trainOnShards(new TinyCnn(), trainInputs()) };
}

/** The differentiable allreduce on values and weights that differ by rank: its sum, and the gradient its backward sums. */
function differentiableAllReduce(): Record<string, unknown> {
  const rank = distributed.rank();
  const x = torch.tensor([rank + 1, 2 * (rank + 1)]).requiresGrad_(true);
  const summed = distributed.differentiableAllReduce(x);
  summed
    .mul(torch.tensor([rank + 1, -3 * (rank + 1)]))
    .sum()
    .backward();
  return { rank, sum: values(summed), grad: values(x.grad!) };
}

/**
 * TinyBnCnn trained on this rank's shards of the JSON file argv[3] with
 * synchronised batch norm and without: rank 0 reports both state dicts.
 */
function trainBatchNorm(): Record<string, unknown> {
  const inputs = trainInputs();
  const [sync, perRank] = [true, false].map((on) => {
    const model = new TinyBnCnn();
    nn.convertSyncBatchNorm(model, on);
    return trainOnShards(model, inputs);
  });
  return { rank: distributed.rank(), sync, perRank };
}

async function main(): Promise<void> {
  const scenario = process.argv[2];
  const started = Date.now();
  try {
    // D2R_TEST_WORLD_SIZE: a world larger than the workers started, for a rank that never comes.
    const worldSize = process.env.D2R_TEST_WORLD_SIZE ? Number(process.env.D2R_TEST_WORLD_SIZE) : undefined;
    await distributed.initProcessGroup({ timeoutSeconds: TIMEOUT_SECONDS, worldSize });
  } catch (err) {
    const e = err as distributed.DistributedError;
    console.log(
      JSON.stringify({ initError: { name: e.name, message: e.message, failedRanks: e.failedRanks }, elapsedMs: Date.now() - started }),
    );
    return;
  }
  // Scenarios that break the group come last in a run: each process start is costly on a loaded machine.
  let report: Record<string, unknown>;
  if (scenario === 'healthy') report = { collectives: collectives(), gradients: gradients(), stuck: peerStuck() };
  else if (scenario === 'train') report = train();
  else if (scenario === 'syncBatchNorm') report = { allReduce: differentiableAllReduce(), trained: trainBatchNorm() };
  else if (scenario === 'dies') report = peerDies(Number(process.argv[3]));
  else throw new Error(`unknown scenario ${scenario}`);
  console.log(JSON.stringify(report));
}

await main();
