// Trains every method on Fashion-MNIST with smallcnn under the same budget and
// seed, evaluates each with FGSM, PGD-20 and CW-20, and writes a table.
//
//   node dist/experiments/compare-methods.js [--epochs 10] [--limit 60000] [--n 1000] [--lr 0.01] [--batch-size 128] [--schedule reference] [--out runs/compare]
//
// Each run is a plain `d2r train` / `d2r eval` call, so every row can be
// reproduced with the command recorded in its config.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    limit: { type: 'string', default: '60000' },
    n: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '0' },
    lr: { type: 'string', default: '0.01' },
    'batch-size': { type: 'string', default: '128' },
    schedule: { type: 'string', default: 'reference' },
    methods: { type: 'string', default: 'standard,pgd-at,trades,mart,lbgat,d2r' },
    out: { type: 'string', default: 'runs/compare' },
  },
});
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const out = values.out!;
mkdirSync(out, { recursive: true });

function d2r(args: string[]): void {
  process.stderr.write(`$ d2r ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`d2r ${args[0]} failed with status ${r.status}`);
}

interface Row {
  method: string;
  clean: number;
  fgsm: number;
  pgd20: number;
  cw20: number;
  worst: number;
  trainSeconds: number;
  command: string;
}

const rows: Row[] = [];
for (const method of values.methods!.split(',')) {
  const runDir = join(out, method);
  const started = performance.now();
  d2r([
    'train', '--method', method, '--model', 'smallcnn', '--dataset', 'fashion-mnist',
    '--epochs', values.epochs!, '--limit', values.limit!, '--epsilon', '0.1', '--step-size', '0.01', '--steps', '10',
    '--eval-n', '500', '--seed', values.seed!, '--lr', values.lr!, '--batch-size', values['batch-size']!, '--schedule', values.schedule!, '--out', runDir,
  ]);
  const trainSeconds = (performance.now() - started) / 1000;
  // Each attack on its own (as papers report them), then the per-point worst case over all three.
  const robustAfter: Record<string, boolean[]> = {};
  let clean = 0;
  for (const attack of ['fgsm', 'pgd20', 'cw20']) {
    const file = join(runDir, `eval-${attack}.json`);
    d2r(['eval', '--checkpoint', runDir, '--n', values.n!, '--attacks', attack, '--epsilon', '0.1', '--seed', values.seed!, '--out', file]);
    const e = JSON.parse(readFileSync(file, 'utf8')) as { cleanAccuracy: number; points: { robust: boolean[] } };
    clean = e.cleanAccuracy;
    robustAfter[attack] = e.points.robust;
  }
  const share = (flags: boolean[]): number => flags.filter(Boolean).length / flags.length;
  const worst = robustAfter['fgsm']!.map((_, i) => Object.values(robustAfter).every((r) => r[i]));
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { command: string };
  rows.push({ method, clean, fgsm: share(robustAfter['fgsm']!), pgd20: share(robustAfter['pgd20']!), cw20: share(robustAfter['cw20']!), worst: share(worst), trainSeconds, command: config.command });
  writeFileSync(join(out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
}

const pct = (v: number): string => (100 * v).toFixed(2);
const table = [
  '| method | clean | FGSM | PGD-20 | CW-20 | worst case | train time |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.method} | ${pct(r.clean)} | ${pct(r.fgsm)} | ${pct(r.pgd20)} | ${pct(r.cw20)} | ${pct(r.worst)} | ${(r.trainSeconds / 60).toFixed(1)} min |`),
].join('\n');
writeFileSync(join(out, 'results.md'), table + '\n');
process.stdout.write(table + '\n');
