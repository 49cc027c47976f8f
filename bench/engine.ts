// Side-by-side benchmark of this engine and PyTorch (Debian python3-torch) on
// the same machine and thread count, interleaved round by round.
//
//   node dist/bench/engine.js [--rounds 15] [--threads N] [--cases a,b] [--out runs/bench-engine.json]
//
// The PyTorch side (bench/engine_torch.py) is a long-lived child that answers
// "run <case> <reps>" with the milliseconds the reps took. Each round runs our
// case then PyTorch's (the order alternates between rounds); the table shows
// medians over rounds and the ratio ours / PyTorch. Both sides are written with
// functional ops only, from the same specs, so they do the same work.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as torch from '../src/engine/torch.js';
import type { Tensor } from '../src/engine/tensor.js';
import { SGD } from '../src/optim/sgd.js';

const ALL_CASES = [
  'small_cnn_train_step',
  'small_cnn_sgd_step',
  'smallcnn_pgd_batch',
  'smallcnn_pgd_batch_cl',
  'preact18_fwd_bwd',
  'preact18_fwd',
  'op_overhead',
];
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string' },
    cases: { type: 'string', default: ALL_CASES.join(',') },
    out: { type: 'string', default: 'runs/bench-engine.json' },
  },
});
const threads = Number(values.threads ?? torch.getNumThreads());
const rounds = Number(values.rounds);
if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, got ${values.threads}`);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
torch.setNumThreads(threads);
torch.manualSeed(0);

// ---- parameters as plain tensors ------------------------------------------------------
const params: Tensor[] = [];
function param(shape: number[], fanIn: number): Tensor {
  const p = torch.keep(
    torch
      .randn(shape)
      .mul(Math.sqrt(2 / fanIn))
      .requiresGrad_(),
  );
  params.push(p);
  return p;
}
const constant = (t: Tensor): Tensor => torch.keep(t);

// ---- (a) small CNN training step with hand-written SGD momentum --------------------------
const cnn = {
  w1: param([32, 1, 3, 3], 9),
  b1: param([32], 9),
  w2: param([64, 32, 3, 3], 288),
  b2: param([64], 288),
  w3: param([128, 64 * 12 * 12], 9216),
  b3: param([128], 9216),
  w4: param([10, 128], 128),
  b4: param([10], 128),
};
const cnnParams = Object.values(cnn);
const cnnMomentum = cnnParams.map((p) => constant(torch.zerosLike(p)));
const cnnX = constant(torch.rand([128, 1, 28, 28]));
const cnnY = constant(torch.randint(0, 10, [128]));
function smallCnn(x: Tensor): Tensor {
  const h = torch.conv2d(torch.conv2d(x, cnn.w1, cnn.b1).relu(), cnn.w2, cnn.b2).relu();
  const f = torch.maxPool2d(h, 2).flatten(1);
  return torch.linear(torch.linear(f, cnn.w3, cnn.b3).relu(), cnn.w4, cnn.b4);
}
function smallCnnTrainStep(): void {
  const [lr, momentum] = [0.01, 0.9];
  torch.tidy(() => {
    torch.crossEntropy(smallCnn(cnnX), cnnY).backward();
    torch.noGrad(() => {
      cnnParams.forEach((p, i) => {
        const g = p.grad!;
        cnnMomentum[i]!.mul_(momentum).add_(g);
        p.add_(cnnMomentum[i]!, -lr);
      });
    });
    torch.zeroGrad(cnnParams);
  });
}

// ---- (a') the same step with the library's SGD: one fused native call for all parameters
// (PyTorch: torch.optim.SGD with foreach=True, its multi-tensor kernels)
const cnnSgd = new SGD(cnnParams, { lr: 0.01, momentum: 0.9 });
function smallCnnSgdStep(): void {
  torch.tidy(() => {
    torch.crossEntropy(smallCnn(cnnX), cnnY).backward();
    cnnSgd.step();
    cnnSgd.zeroGrad();
  });
}

// ---- (a'') a PGD-AT batch of the zoo's smallcnn (TRADES' SmallCNN, dropout left out): 10 PGD steps
// (input gradient only) then the training loss's backward; weights as created (NCHW) or laid out
// channels-last (NHWC), as Module.toChannelsLast and PyTorch's model.to(memory_format=torch.channels_last)
const trades = {
  c1: [constant(torch.randn([32, 1, 3, 3]).mul(0.3).requiresGrad_()), constant(torch.zeros([32]).requiresGrad_())],
  c2: [constant(torch.randn([32, 32, 3, 3]).mul(0.08).requiresGrad_()), constant(torch.zeros([32]).requiresGrad_())],
  c3: [constant(torch.randn([64, 32, 3, 3]).mul(0.08).requiresGrad_()), constant(torch.zeros([64]).requiresGrad_())],
  c4: [constant(torch.randn([64, 64, 3, 3]).mul(0.06).requiresGrad_()), constant(torch.zeros([64]).requiresGrad_())],
  f1: [constant(torch.randn([200, 1024]).mul(0.03).requiresGrad_()), constant(torch.zeros([200]).requiresGrad_())],
  f2: [constant(torch.randn([200, 200]).mul(0.07).requiresGrad_()), constant(torch.zeros([200]).requiresGrad_())],
  f3: [constant(torch.randn([10, 200]).mul(0.07).requiresGrad_()), constant(torch.zeros([10]).requiresGrad_())],
} as const;
const tradesCl = Object.fromEntries(
  Object.entries(trades).map(([k, [w, b]]) => [
    k,
    [w.shape.length === 4 ? constant(torch.noGrad(() => w.channelsLast()).requiresGrad_()) : w, b],
  ]),
) as unknown as typeof trades;
function tradesCnn(x: Tensor, p: typeof trades): Tensor {
  const conv = (h: Tensor, [w, b]: readonly [Tensor, Tensor]): Tensor => torch.conv2d(h, w, b).relu();
  const f = torch.maxPool2d(conv(conv(torch.maxPool2d(conv(conv(x, p.c1), p.c2), 2), p.c3), p.c4), 2).flatten(1);
  const fc = (h: Tensor, [w, b]: readonly [Tensor, Tensor]): Tensor => torch.linear(h, w, b);
  return fc(fc(fc(f, p.f1).relu(), p.f2).relu(), p.f3);
}
function pgdBatch(p: typeof trades): () => void {
  return () =>
    torch.tidy(() => {
      let delta = torch.zeros([128, 1, 28, 28]);
      for (let i = 0; i < 10; i++) {
        const d = delta.requiresGrad_();
        const [g] = torch.grad(torch.crossEntropy(tradesCnn(cnnX.add(d), p), cnnY), d);
        delta = torch.noGrad(() => delta.add(g!.sign().mul(0.01)).clamp(-0.1, 0.1));
      }
      torch.crossEntropy(tradesCnn(cnnX.add(delta), p), cnnY).backward();
      torch.zeroGrad(Object.values(p).flat());
    });
}

// ---- (b) PreActResNet-18 forward + backward, batch norm in train mode -------------------
interface Bn {
  weight: Tensor;
  bias: Tensor;
  mean: Tensor;
  var: Tensor;
}
function bn(channels: number): Bn {
  const weight = torch.keep(torch.ones([channels]).requiresGrad_());
  const bias = torch.keep(torch.zeros([channels]).requiresGrad_());
  params.push(weight, bias);
  return { weight, bias, mean: constant(torch.zeros([channels])), var: constant(torch.ones([channels])) };
}
const batchNorm = (x: Tensor, b: Bn): Tensor => torch.batchNorm(x, b.mean, b.var, { weight: b.weight, bias: b.bias, training: true });
interface Block {
  bn1: Bn;
  conv1: Tensor;
  bn2: Bn;
  conv2: Tensor;
  shortcut: Tensor | null;
  stride: number;
}
function block(cin: number, cout: number, stride: number): Block {
  return {
    bn1: bn(cin),
    conv1: param([cout, cin, 3, 3], cin * 9),
    bn2: bn(cout),
    conv2: param([cout, cout, 3, 3], cout * 9),
    shortcut: stride !== 1 || cin !== cout ? param([cout, cin, 1, 1], cin) : null,
    stride,
  };
}
function blockForward(x: Tensor, b: Block): Tensor {
  const pre = batchNorm(x, b.bn1).relu();
  const shortcut = b.shortcut ? torch.conv2d(pre, b.shortcut, null, { stride: b.stride }) : x;
  const h = torch.conv2d(pre, b.conv1, null, { stride: b.stride, padding: 1 });
  return torch.conv2d(batchNorm(h, b.bn2).relu(), b.conv2, null, { padding: 1 }).add(shortcut);
}
const preact = {
  stem: param([64, 3, 3, 3], 27),
  blocks: [
    [64, 64, 1],
    [64, 64, 1],
    [64, 128, 2],
    [128, 128, 1],
    [128, 256, 2],
    [256, 256, 1],
    [256, 512, 2],
    [512, 512, 1],
  ].map(([cin, cout, stride]) => block(cin!, cout!, stride!)),
  bn: bn(512),
  fc: param([10, 512], 512),
  fcBias: param([10], 512),
};
const preactParams = params.filter((p) => !cnnParams.includes(p));
const resX = constant(torch.rand([32, 3, 32, 32]));
const resY = constant(torch.randint(0, 10, [32]));
function preactResNet18(x: Tensor): Tensor {
  let h = torch.conv2d(x, preact.stem, null, { padding: 1 });
  for (const b of preact.blocks) h = blockForward(h, b);
  h = torch.avgPool2d(batchNorm(h, preact.bn).relu(), 4).flatten(1);
  return torch.linear(h, preact.fc, preact.fcBias);
}
function preactFwdBwd(): void {
  torch.tidy(() => {
    torch.crossEntropy(preactResNet18(resX), resY).backward();
    torch.zeroGrad(preactParams);
  });
}
function preactFwd(): void {
  torch.tidy(() => torch.crossEntropy(preactResNet18(resX), resY).item());
}

// ---- (c) per-op call overhead: 1-element add, in tidy per 1000 calls --------------------
const one = [constant(torch.rand([1])), constant(torch.rand([1]))] as const;
const OPS_PER_REP = 100_000;
function opOverhead(): void {
  for (let k = 0; k < OPS_PER_REP / 1000; k++) {
    torch.tidy(() => {
      for (let i = 0; i < 1000; i++) one[0].add(one[1]);
    });
  }
}

const ours: Record<string, { run: () => void; reps: number; unit: string; perUnit: number }> = {
  small_cnn_train_step: { run: smallCnnTrainStep, reps: 1, unit: 'ms/step', perUnit: 1 },
  small_cnn_sgd_step: { run: smallCnnSgdStep, reps: 1, unit: 'ms/step', perUnit: 1 },
  smallcnn_pgd_batch: { run: pgdBatch(trades), reps: 1, unit: 'ms/batch', perUnit: 1 },
  smallcnn_pgd_batch_cl: { run: pgdBatch(tradesCl), reps: 1, unit: 'ms/batch', perUnit: 1 },
  preact18_fwd_bwd: { run: preactFwdBwd, reps: 1, unit: 'ms/step', perUnit: 1 },
  preact18_fwd: { run: preactFwd, reps: 1, unit: 'ms/step', perUnit: 1 },
  op_overhead: { run: opOverhead, reps: 1, unit: 'us/op', perUnit: 1000 / OPS_PER_REP },
};

// ---- the PyTorch side ---------------------------------------------------------------------
const script = fileURLToPath(new URL('../../bench/engine_torch.py', import.meta.url));
const python = spawn(process.env.D2R_PYTHON ?? '/usr/bin/python3', [script, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: python.stdout! })[Symbol.asyncIterator]();
async function answer(): Promise<string> {
  const next = await lines.next();
  if (next.done) throw new Error('the PyTorch side exited early');
  return next.value as string;
}
async function pythonRun(name: string, reps: number): Promise<number> {
  python.stdin!.write(`run ${name} ${reps}\n`);
  const reply = await answer();
  const ms = Number(reply);
  if (!Number.isFinite(ms)) throw new Error(`PyTorch side: ${reply}`);
  return ms / reps;
}
function oursRun(name: string, reps: number): number {
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) ours[name]!.run();
  return (performance.now() - t0) / reps;
}
const median = (v: number[]): number => {
  const s = [...v].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const ready = await answer();
if (!ready.startsWith('ready')) throw new Error(`PyTorch side failed to start: ${ready}`);
const pytorchVersion = ready.split(' ')[1] ?? 'unknown';
process.stdout.write(
  `threads ${threads} (ours getNumThreads ${torch.getNumThreads()}), rounds ${rounds}, libtorch ${torch.libtorchVersion()}, PyTorch ${pytorchVersion}\n`,
);

interface Row {
  case: string;
  unit: string;
  ours: number;
  pytorch: number;
  ratio: number;
  rounds: number;
  oursAll: number[];
  pytorchAll: number[];
}
const results: Row[] = [];
for (const name of values.cases!.split(',')) {
  const spec = ours[name];
  if (!spec) throw new Error(`unknown case ${name}; known: ${Object.keys(ours).join(', ')}`);
  for (let w = 0; w < 2; w++) {
    oursRun(name, spec.reps); // warm-up: allocator, thread pool, first-touch pages
    await pythonRun(name, spec.reps);
  }
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      mine.push(oursRun(name, spec.reps) * spec.perUnit);
      theirs.push((await pythonRun(name, spec.reps)) * spec.perUnit);
    } else {
      theirs.push((await pythonRun(name, spec.reps)) * spec.perUnit);
      mine.push(oursRun(name, spec.reps) * spec.perUnit);
    }
  }
  const row: Row = {
    case: name,
    unit: spec.unit,
    ours: median(mine),
    pytorch: median(theirs),
    ratio: median(mine) / median(theirs),
    rounds,
    oursAll: mine,
    pytorchAll: theirs,
  };
  results.push(row);
  process.stdout.write(
    `${name.padEnd(22)} ours ${row.ours.toFixed(3).padStart(10)} ${row.unit}   PyTorch ${row.pytorch.toFixed(3).padStart(10)} ${row.unit}   ratio ${row.ratio.toFixed(3)}\n`,
  );
}
python.stdin!.write('quit\n');
python.stdin!.end();

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(
  values.out!,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      threads,
      rounds,
      libtorch: torch.libtorchVersion(),
      pytorch: pytorchVersion,
      results,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`written to ${values.out}\n`);
