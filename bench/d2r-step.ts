// One D2R training step (CAG with 10 steps + the D2R loss + one SGD step over
// both models; PreActResNet-18 target, ResNet-18 guidance, batch 32 of 3x32x32)
// in this engine and in PyTorch (bench/d2r_step_torch.py, a transcription of
// the spec), interleaved round by round on the same thread count; medians and the ratio.
//
//   node dist/bench/d2r-step.js [--rounds 5] [--threads N] [--out runs/bench-d2r-step.json]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { torch, optim, models, methods } from '../src/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string' },
    out: { type: 'string', default: 'runs/bench-d2r-step.json' },
  },
});
const threads = Number(values.threads ?? torch.getNumThreads());
const rounds = Number(values.rounds);
torch.setNumThreads(threads);
torch.manualSeed(0);

const target = models.preActResNet18({ numClasses: 10 });
const guidance = models.resNet18({ numClasses: 10 });
const x = torch.keep(torch.rand([32, 3, 32, 32]));
const y = torch.keep(torch.randint(0, 10, [32]));
const optimizer = new optim.SGD([...target.parameters(), ...guidance.parameters()], { lr: 0.1, momentum: 0.9, weightDecay: 2e-4 });
const d2r = new methods.D2r({ epsilon: 8 / 255, stepSize: 2 / 255, steps: 10 });
function oursMs(): number {
  const started = performance.now();
  torch.tidy(() => {
    target.train();
    guidance.train();
    optimizer.zeroGrad();
    d2r.batchLoss({ target, guidance }, x, y).loss.backward();
    optimizer.step();
  });
  return performance.now() - started;
}

const python = spawn(
  process.env.D2R_PYTHON ?? '/usr/bin/python3',
  [fileURLToPath(new URL('../../bench/d2r_step_torch.py', import.meta.url)), String(threads)],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const lines = createInterface({ input: python.stdout! })[Symbol.asyncIterator]();
async function pytorchMs(): Promise<number> {
  python.stdin!.write('step\n');
  const next = await lines.next();
  if (next.done) throw new Error('the PyTorch side exited');
  return Number(next.value);
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

if ((await lines.next()).value !== 'ready') throw new Error('the PyTorch side failed to start');
oursMs(); // warm-up both sides
await pytorchMs();
const ours: number[] = [];
const theirs: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternate who goes first so drifts in machine load hit both sides alike.
  if (r % 2 === 0) {
    ours.push(oursMs());
    theirs.push(await pytorchMs());
  } else {
    theirs.push(await pytorchMs());
    ours.push(oursMs());
  }
}
python.stdin!.end();
const result = { threads, rounds, oursMs: median(ours), pytorchMs: median(theirs), ratio: median(ours) / median(theirs) };
process.stdout.write(
  `d2r step: ours ${result.oursMs.toFixed(0)} ms, PyTorch ${result.pytorchMs.toFixed(0)} ms, ratio ${result.ratio.toFixed(3)} (${threads} threads, ${rounds} rounds)\n`,
);
writeJsonAtomic(values.out!, result);
