// Images per second of a bounded D2R training epoch (smallcnn target and
// guidance, Fashion-MNIST, CAG 10 steps, one global batch per step) for
// 1 process x 1 thread, 1 process x all threads and N processes x 1 thread,
// in this engine (GradientAverager over c10d/Gloo) and in PyTorch
// (bench/ddp_torch.py, DistributedDataParallel over Gloo), interleaved round by
// round; medians and ratios printed and written as JSON. Only the batches after
// a warm-up batch are timed, from a barrier to a barrier (process starts are not).
// Each round also runs N independent processes (no exchange): the machine's ceiling.
//
//   npm run bench:ddp -- [--rounds 3] [--batches 16] [--batch-size 128] [--procs N] [--out runs/bench-ddp.json]
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { data, distributed, methods, models, optim, torch } from '../src/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';
import { freePort } from '../src/cli/launch.js';

const WARMUP_BATCHES = 1;

const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    batches: { type: 'string', default: '16' },
    'batch-size': { type: 'string', default: '128' },
    procs: { type: 'string', default: String(cpus().length) },
    out: { type: 'string', default: 'runs/bench-ddp.json' },
  },
});
const batches = Number(values.batches);
const batchSize = Number(values['batch-size']);

/** One rank of our side: prints the seconds of the timed batches (rank 0). */
async function worker(): Promise<void> {
  torch.setNumThreads(Number(values.threads));
  torch.manualSeed(0);
  const procs = Number(process.env.WORLD_SIZE ?? '1');
  if (procs > 1) await distributed.initProcessGroup({ backend: 'gloo' });
  const rank = distributed.rank();
  const count = (batches + WARMUP_BATCHES) * batchSize;
  const train = data.loadDataset('fashion-mnist', { split: 'train', limit: count });
  const xAll = train.images;
  const yAll = train.labels;
  const target = models.smallCnn({ numClasses: 10 });
  const guidance = models.smallCnn({ numClasses: 10 });
  const params = [...target.parameters(), ...guidance.parameters()];
  const averager = procs > 1 ? new distributed.GradientAverager(params) : null;
  averager?.broadcastFromRank0(params);
  const optimizer = new optim.SGD(params, { lr: 0.01, momentum: 0.9 });
  const d2r = new methods.D2r({ epsilon: 0.1, stepSize: 0.01, steps: 10 });
  const share = Math.floor(batchSize / procs);
  let started = 0;
  for (let b = 0; b < batches + WARMUP_BATCHES; b++) {
    if (b === WARMUP_BATCHES) {
      if (procs > 1) distributed.barrier();
      started = performance.now();
    }
    torch.tidy(() => {
      const lo = b * batchSize + rank * share;
      target.train();
      guidance.train();
      optimizer.zeroGrad();
      d2r.batchLoss({ target, guidance }, xAll.narrow(0, lo, share), yAll.narrow(0, lo, share)).loss.backward();
      averager?.averageGradients();
      optimizer.step();
    });
  }
  if (procs > 1) distributed.barrier();
  const seconds = (performance.now() - started) / 1000;
  if (rank === 0) console.log(JSON.stringify({ seconds }));
  distributed.destroyProcessGroup();
}

/** Runs a command to its end; its last stdout line parsed as JSON ({} when it printed nothing). */
function lastJson(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Record<string, number>> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      const last = out.trim().split('\n').pop();
      resolveRun(last ? (JSON.parse(last) as Record<string, number>) : {});
    });
  });
}

/** Our side in `procs` processes of `threads` threads: images per second. */
async function ours(procs: number, threads: number): Promise<number> {
  const port = await freePort();
  const script = fileURLToPath(import.meta.url);
  const args = [script, '--worker', '--threads', String(threads), '--batches', String(batches), '--batch-size', String(batchSize)];
  const runs = Array.from({ length: procs }, (_, rank) =>
    lastJson(process.execPath, args, {
      ...process.env,
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      WORLD_SIZE: String(procs),
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
    }),
  );
  const [first] = await Promise.all(runs);
  return imagesPerSecond(procs, first!.seconds!);
}

const imagesPerSecond = (procs: number, seconds: number): number => (batches * Math.floor(batchSize / procs) * procs) / seconds;

/**
 * The machine's ceiling for `procs` processes: each trains its own shard-sized
 * batches alone (no process group, no gradient exchange) at the same time as
 * the others; images per second summed. What N processes lose against it is
 * ours (communication, waiting); what this loses against N x 1x1 is the
 * machine's (cores that share caches, memory bandwidth or a host).
 */
async function independent(procs: number): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const share = Math.floor(batchSize / procs);
  const args = [script, '--worker', '--threads', '1', '--batches', String(batches), '--batch-size', String(share)];
  const runs = Array.from({ length: procs }, () => lastJson(process.execPath, args, { ...process.env, WORLD_SIZE: '1' }));
  const results = await Promise.all(runs);
  return results.reduce((sum, r) => sum + (batches * share) / r.seconds!, 0);
}

async function pytorch(procs: number, threads: number): Promise<number> {
  const script = fileURLToPath(new URL('../../bench/ddp_torch.py', import.meta.url));
  const result = await lastJson(process.env.D2R_PYTHON ?? '/usr/bin/python3', [
    script,
    String(procs),
    String(threads),
    String(batches),
    String(batchSize),
  ]);
  return result.imagesPerSecond!;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  const cores = cpus().length;
  const procs = Number(values.procs);
  const rounds = Number(values.rounds);
  const configs = [
    { name: '1x1', procs: 1, threads: 1 },
    { name: `1x${cores}`, procs: 1, threads: cores },
    { name: `${procs}x1`, procs, threads: 1 },
  ];
  const samples = new Map(configs.map((c) => [c.name, { ours: [] as number[], pytorch: [] as number[] }]));
  const independentSamples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    independentSamples.push(await independent(procs));
    process.stderr.write(`round ${r + 1}/${rounds} ${procs} independent processes: ${independentSamples.at(-1)!.toFixed(1)} images/s\n`);
    for (const c of configs) {
      const s = samples.get(c.name)!;
      // Alternate who goes first so drifts in machine load hit both sides alike.
      if (r % 2 === 0) {
        s.ours.push(await ours(c.procs, c.threads));
        s.pytorch.push(await pytorch(c.procs, c.threads));
      } else {
        s.pytorch.push(await pytorch(c.procs, c.threads));
        s.ours.push(await ours(c.procs, c.threads));
      }
      process.stderr.write(
        `round ${r + 1}/${rounds} ${c.name}: ours ${s.ours.at(-1)!.toFixed(1)}, PyTorch ${s.pytorch.at(-1)!.toFixed(1)} images/s\n`,
      );
    }
  }
  const results = configs.map((c) => {
    const s = samples.get(c.name)!;
    return { ...c, oursImagesPerSecond: median(s.ours), pytorchImagesPerSecond: median(s.pytorch), samples: s };
  });
  const ceiling = median(independentSamples);
  const base = results[0]!;
  const table = results.map((r) => ({
    ...r,
    oursSpeedup: r.oursImagesPerSecond / base.oursImagesPerSecond,
    pytorchSpeedup: r.pytorchImagesPerSecond / base.pytorchImagesPerSecond,
    // > 1: we take longer than PyTorch for the same images.
    timeRatioVsPytorch: r.pytorchImagesPerSecond / r.oursImagesPerSecond,
  }));
  for (const r of table) {
    process.stdout.write(
      `${r.name.padEnd(5)} ours ${r.oursImagesPerSecond.toFixed(1)} images/s (${r.oursSpeedup.toFixed(2)}x of 1x1), ` +
        `PyTorch ${r.pytorchImagesPerSecond.toFixed(1)} images/s (${r.pytorchSpeedup.toFixed(2)}x), our time / PyTorch's ${r.timeRatioVsPytorch.toFixed(3)}\n`,
    );
  }
  const parallel = table.at(-1)!;
  process.stdout.write(
    `${procs} independent processes (the machine's ceiling, no exchange): ${ceiling.toFixed(1)} images/s ` +
      `(${(ceiling / base.oursImagesPerSecond).toFixed(2)}x of 1x1); ours ${parallel.name} reaches ` +
      `${((100 * parallel.oursImagesPerSecond) / ceiling).toFixed(0)}% of it, PyTorch ` +
      `${((100 * parallel.pytorchImagesPerSecond) / ceiling).toFixed(0)}%\n`,
  );
  writeJsonAtomic(values.out!, {
    cores,
    batches,
    batchSize,
    rounds,
    warmupBatches: WARMUP_BATCHES,
    configs: table,
    independent: { procs, imagesPerSecond: ceiling, samples: independentSamples },
  });
}

if (values.worker) await worker();
else await main();
