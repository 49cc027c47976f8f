// Side-by-side benchmark: this engine and PyTorch (Debian python3-torch) on the
// same machine and thread count, interleaved round by round, medians and ratios.
//
//   node dist/bench/engine.js [--rounds 15] [--threads N] [--cases a,b] [--out runs/bench-engine.json]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { torch, nn, optim, models, methods } from '../src/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string' },
    cases: { type: 'string', default: 'small_cnn_train_step,preact18_fwd_bwd,op_overhead_x1000,d2r_step' },
    out: { type: 'string', default: 'runs/bench-engine.json' },
  },
});
const threads = Number(values.threads ?? torch.getNumThreads());
torch.setNumThreads(threads);
torch.manualSeed(0);

// ---- our side of each case ---------------------------------------------------
const small = new nn.Sequential(new nn.Conv2d(1, 32, 3), new nn.ReLU(), new nn.Conv2d(32, 64, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(),
  new nn.Linear(64 * 12 * 12, 128), new nn.ReLU(), new nn.Linear(128, 10));
const smallOpt = new optim.SGD(small.parameters(), { lr: 0.01, momentum: 0.9 });
const xs = torch.keep(torch.rand([128, 1, 28, 28]));
const ys = torch.keep(torch.randint(0, 10, [128]));
const preact = models.preActResNet18({ numClasses: 10 });
const guide = models.resNet18({ numClasses: 10 });
const xr = torch.keep(torch.rand([32, 3, 32, 32]));
const yr = torch.keep(torch.randint(0, 10, [32]));
const d2rOpt = new optim.SGD([...preact.parameters(), ...guide.parameters()], { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
const d2r = new methods.D2r({ epsilon: 8 / 255, stepSize: 2 / 255, steps: 10 });
const a = torch.keep(torch.rand([1]));
const b = torch.keep(torch.rand([1]));

const ours: Record<string, () => void> = {
  small_cnn_train_step: () => torch.tidy(() => {
    smallOpt.zeroGrad();
    torch.crossEntropy(small.forward(xs), ys).backward();
    smallOpt.step();
  }),
  preact18_fwd_bwd: () => torch.tidy(() => {
    preact.train();
    preact.zeroGrad();
    torch.crossEntropy(preact.forward(xr), yr).backward();
  }),
  op_overhead_x1000: () => torch.tidy(() => {
    for (let i = 0; i < 1000; i++) a.add(b);
  }),
  d2r_step: () => torch.tidy(() => {
    preact.train();
    guide.train();
    d2rOpt.zeroGrad();
    d2r.batchLoss({ target: preact, guidance: guide }, xr, yr).loss.backward();
    d2rOpt.step();
  }),
};

// ---- the PyTorch side, a child answering one case per line ------------------------
const python = spawn(process.env.D2R_PYTHON ?? '/usr/bin/python3', [fileURLToPath(new URL('../../bench/torch_side.py', import.meta.url)), String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: python.stdout! })[Symbol.asyncIterator]();
async function pythonRun(name: string): Promise<number> {
  python.stdin!.write(name + '\n');
  const next = await lines.next();
  if (next.done) throw new Error('the PyTorch side exited');
  return Number(next.value);
}
function oursRun(name: string): number {
  const t = performance.now();
  ours[name]!();
  return performance.now() - t;
}
const median = (v: number[]): number => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const ready = await lines.next();
if (ready.value !== 'ready') throw new Error(`PyTorch side failed to start: ${ready.value}`);
const rounds = Number(values.rounds);
const results: { case: string; oursMs: number; pytorchMs: number; ratio: number; rounds: number }[] = [];
for (const name of values.cases!.split(',')) {
  if (!ours[name]) throw new Error(`unknown case ${name}; known: ${Object.keys(ours).join(', ')}`);
  const caseRounds = name === 'd2r_step' ? Math.min(rounds, 5) : rounds;
  oursRun(name); // warm-up both sides
  await pythonRun(name);
  const mine: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < caseRounds; r++) {
    // Alternate who goes first, so drifts in machine load hit both sides alike.
    if (r % 2 === 0) {
      mine.push(oursRun(name));
      theirs.push(await pythonRun(name));
    } else {
      theirs.push(await pythonRun(name));
      mine.push(oursRun(name));
    }
  }
  const row = { case: name, oursMs: median(mine), pytorchMs: median(theirs), ratio: median(mine) / median(theirs), rounds: caseRounds };
  results.push(row);
  process.stdout.write(`${name.padEnd(24)} ours ${row.oursMs.toFixed(2).padStart(9)} ms   PyTorch ${row.pytorchMs.toFixed(2).padStart(9)} ms   ratio ${row.ratio.toFixed(3)}\n`);
}
python.stdin!.end();
const overhead = results.find((r) => r.case === 'op_overhead_x1000');
if (overhead) process.stdout.write(`per-op call overhead: ours ${(overhead.oursMs).toFixed(2)} us/op, PyTorch ${(overhead.pytorchMs).toFixed(2)} us/op\n`);
writeJsonAtomic(values.out!, { threads, libtorch: torch.libtorchVersion(), date: new Date().toISOString(), results });
process.stdout.write(`threads ${threads}; written to ${values.out}\n`);
