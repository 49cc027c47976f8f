// Why the D2R target of the study trails PGD-AT's (docs/results/d2r-investigation.md):
// how large a gradient each D2R term sends into the target's parameters, against
// PGD-AT's cross-entropy on its own adversarial batch, for freshly initialised
// models (where epoch 1 starts) and for the models of a run's latest checkpoint,
// under the reference KL reduction (mean over batch x classes) and batchmean.
// Each term's gradient is taken alone (torch.grad), on the same adversarial batch
// for both reductions, in train mode as in training; mean over the batches.
//
//   node dist/experiments/d2r-gradients.js --run runs/study/d2r [--batches 4] [--out docs/results/d2r-gradients.json]
import { parseArgs } from 'node:util';
import { data, methods, models, torch } from '../src/index.js';
import type { Module } from '../src/nn/index.js';
import type { Tensor } from '../src/engine/tensor.js';
import { loadRunWeights } from '../src/eval/runModels.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const BATCH = 128;
// The study's settings (experiments/study.sh): eps 0.1, 10 steps of 0.01, smallcnn with dropout 0.5.
const BUDGET = { epsilon: 0.1, stepSize: 0.01, steps: 10 };
const DROPOUT = 0.5;
const WEIGHTS = { mse: 1, clean: 20, adv: 30 };

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    batches: { type: 'string', default: '4' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'docs/results/d2r-gradients.json' },
  },
});
if (!values.run) throw new Error('--run: expected the directory of a D2R run with a checkpoint (smallcnn target and guidance)');
const batches = Number(values.batches);
const seed = Number(values.seed);

/** The L2 norm of the gradient of `loss` over all of `params` (the graph is kept for the next term). */
function gradNorm(loss: Tensor, params: Tensor[]): number {
  return torch.tidy(() => {
    const grads = torch.grad(loss, params, { retainGraph: true, allowUnused: true });
    return Math.sqrt(grads.reduce((sum, g) => sum + (g ? g.pow(2).sum().item() : 0), 0));
  });
}

type Row = Record<string, number>;

/** Gradient norms on the target for one batch: PGD-AT's loss, then D2R's terms under both reductions. */
function measure(target: Module, guidance: Module, x: Tensor, y: Tensor, batchSeed: number): Row {
  const params = target.parameters();
  target.train();
  guidance.train();
  return torch.tidy(() => {
    const row: Row = {};
    torch.manualSeed(batchSeed);
    row.pgdAtCe = gradNorm(new methods.PgdAdversarialTraining(BUDGET).batchLoss({ target }, x, y).loss, params);
    torch.manualSeed(batchSeed);
    const xAdv = new methods.D2r(BUDGET).generate({ target, guidance }, x, y);
    for (const reduction of ['reference', 'batchmean'] as const) {
      torch.manualSeed(batchSeed + 1);
      const { loss, terms } = new methods.D2r({ ...BUDGET, ...WEIGHTS, reduction }).lossOn({ target, guidance }, x, xAdv, y);
      row[`${reduction}.total`] = gradNorm(loss, params);
      for (const term of ['mse', 'clean', 'adv'] as const) {
        row[`${reduction}.${term}`] = gradNorm(terms![term]!.mul(WEIGHTS[term]), params);
        row[`${reduction}.${term}.value`] = terms![term]!.item();
      }
    }
    return row;
  });
}

function meanRows(rows: Row[]): Row {
  const out: Row = {};
  for (const key of Object.keys(rows[0]!)) out[key] = rows.reduce((s, r) => s + r[key]!, 0) / rows.length;
  return out;
}

function main(): void {
  torch.setNumThreads(1);
  const count = batches * BATCH;
  const train = data.loadDataset('fashion-mnist', { split: 'train', limit: count });
  const xAll = train.images;
  const yAll = train.labels;
  const states: { state: string; target: Module; guidance: Module }[] = [];
  torch.manualSeed(seed);
  states.push({
    state: `initialisation (seed ${seed})`,
    target: models.smallCnn({ numClasses: 10, dropout: DROPOUT }),
    guidance: models.smallCnn({ numClasses: 10, dropout: DROPOUT }),
  });
  const target = models.smallCnn({ numClasses: 10, dropout: DROPOUT });
  const guidance = models.smallCnn({ numClasses: 10, dropout: DROPOUT });
  const epoch = loadRunWeights(values.run!, target, 'target');
  loadRunWeights(values.run!, guidance, 'guidance');
  states.push({ state: `${values.run} epoch ${epoch}`, target, guidance });

  const results = states.map(({ state, target, guidance }) => {
    const rows = Array.from({ length: batches }, (_, b) =>
      measure(target, guidance, xAll.narrow(0, b * BATCH, BATCH), yAll.narrow(0, b * BATCH, BATCH), seed + 100 * b),
    );
    return { state, ...meanRows(rows) };
  });
  const f = (v: number | undefined): string => (v === undefined ? '' : v.toPrecision(3));
  process.stdout.write(
    '| models | PGD-AT CE | D2R total | MSE (x1) | clean (x20) | adv (x30) | D2R total, batchmean | clean (x20), batchmean | adv (x30), batchmean |\n' +
      '|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of results) {
    const row = r as unknown as Row & { state: string };
    process.stdout.write(
      `| ${row.state} | ${f(row.pgdAtCe)} | ${f(row['reference.total'])} | ${f(row['reference.mse'])} | ${f(row['reference.clean'])} | ` +
        `${f(row['reference.adv'])} | ${f(row['batchmean.total'])} | ${f(row['batchmean.clean'])} | ${f(row['batchmean.adv'])} |\n`,
    );
  }
  writeJsonAtomic(values.out!, {
    run: values.run,
    batches,
    batchSize: BATCH,
    seed,
    budget: BUDGET,
    weights: WEIGHTS,
    dropout: DROPOUT,
    results,
  });
  process.stdout.write(`${values.out}\n`);
}

main();
