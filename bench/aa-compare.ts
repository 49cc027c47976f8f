// Our AutoAttack against the reference (fra31/auto-attack, run by
// bench/aa_reference.py from a local copy; never vendored, never in CI) on
// the same model and points with the same seed: robust accuracy after every
// attack and the per-point robust flags, for each version and threat model
// asked for. The model is a TorchScript file (--torchscript, e.g. the residual
// conv net of bench/aa_torchscript_model.py: we load it with
// models.loadTorchScript, the reference with torch.jit.load), or else a small
// MLP trained here on Fashion-MNIST (its weights go to PyTorch as a state dict).
// A case is norm:version[:epsilon] (default epsilon: EPSILON below), or
// norm:custom:epsilon:attack+attack... (our custom version: the attacks given
// with the standard row's budgets, which the reference is given too).
//
//   node dist/bench/aa-compare.js --reference /tmp/autoattack-ref [--torchscript runs/aa-ref/convnet.pt] [--n 100]
//     [--cases linf:standard,l2:standard,l1:standard,linf:plus,l2:plus] [--individual] [--out runs/bench-aa-compare.json]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { torch, nn, optim, data, attacks, models } from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { writeJsonAtomic } from '../src/io/atomic.js';

const { values } = parseArgs({
  options: {
    reference: { type: 'string', default: '/tmp/autoattack-ref' },
    torchscript: { type: 'string' },
    n: { type: 'string', default: '100' },
    cases: { type: 'string', default: 'linf:standard,l2:standard,l1:standard,linf:plus,l2:plus' },
    individual: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/bench-aa-compare.json' },
  },
});
const n = Number(values.n);
const seed = Number(values.seed);
/** Budgets at which the MLP keeps part of its points (so that every attack has work). */
const EPSILON = { linf: 0.03, l2: 0.5, l1: 4 } as const;
torch.setNumThreads(1);
torch.manualSeed(0);

/** A 784-100-10 MLP, 3 epochs of SGD on 6,000 Fashion-MNIST training images. */
function trainedMlp(): nn.Module {
  const model = new nn.Sequential({
    flat: new nn.Flatten(),
    fc1: new nn.Linear(784, 100),
    relu: new nn.ReLU(),
    fc2: new nn.Linear(100, 10),
  });
  const train = data.loadDataset('fashion-mnist', { split: 'train', limit: 6000 });
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  model.train();
  const loader = new data.DataLoader(train, { batchSize: 100, shuffle: true, seed: 0 });
  for (let epoch = 0; epoch < 3; epoch++) {
    for (const batch of loader.epoch(epoch)) {
      torch.tidy(() => {
        optimizer.zeroGrad();
        torch.crossEntropy(model.forward(batch.x), batch.y).backward();
        optimizer.step();
      });
    }
  }
  return model.eval();
}

interface Case {
  norm: 'linf' | 'l2' | 'l1';
  version: 'standard' | 'plus' | 'rand' | 'custom';
  epsilon: number;
  /** The attacks of a custom case, in order. */
  attacks?: attacks.AutoAttackComponent[];
}

const CASE_FORMAT = 'norm:version[:epsilon[:attack+attack...]] (norm linf|l2|l1; version standard|plus|rand, or custom with attacks)';

function parseCase(spec: string): Case {
  const [norm, version, epsilon, list] = spec.split(':');
  const custom = version === 'custom';
  if (!(norm! in EPSILON) || !['standard', 'plus', 'rand', 'custom'].includes(version!) || custom !== (list !== undefined))
    throw new Error(`--cases: expected ${CASE_FORMAT}, got '${spec}'`);
  const c = { norm, version } as Pick<Case, 'norm' | 'version'>;
  const eps = epsilon === undefined ? EPSILON[c.norm] : Number(epsilon);
  if (!(eps >= 0)) throw new Error(`--cases: epsilon must be a number >= 0, got '${epsilon}' in '${spec}'`);
  return { ...c, epsilon: eps, attacks: list?.split('+') as attacks.AutoAttackComponent[] | undefined };
}

/** Our row's budgets as settings of the reference's attack objects (its custom runs otherwise keep its constructor's: APGD and FAB 5 restarts). */
function referenceBudgets(row: attacks.AutoAttackVersion): Record<string, number | boolean> {
  return {
    'apgd.n_restarts': row.restarts['apgd-ce'],
    'apgd.use_largereps': row.largerEpsilons,
    'apgd_targeted.use_largereps': row.largerEpsilons,
    'apgd_targeted.n_target_classes': row.targets['apgd-t'],
    'apgd_targeted.n_restarts': row.restarts['apgd-t'],
    'fab.n_restarts': row.restarts.fab,
    'fab.n_target_classes': row.targets['fab-t'],
    'square.n_queries': row.queries,
  };
}

/**
 * What the reference is asked to run: a custom case with our budgets for it
 * (the standard row of its norm); L1 standard as a custom run of our L1 row
 * (the reference's L1 FAB-T and Square are not ours).
 */
function referenceRequest(c: Case): Record<string, unknown> {
  const row = attacks.AUTOATTACK_VERSIONS.standard[c.norm];
  if (c.version === 'custom') return { version: 'custom', attacks: c.attacks, overrides: referenceBudgets(row) };
  if (c.norm !== 'l1' || c.version !== 'standard') return { version: c.version };
  return { version: 'custom', attacks: row.attacks, overrides: referenceBudgets(row) };
}

const wire = (t: Tensor) => ({ __tensor: true, shape: t.shape, dtype: t.dtype, data: t.toNumbers() });

/** The model as the reference gets it: the TorchScript file's path, or the MLP's weights. */
function referenceModel(model: nn.Module): Record<string, unknown> {
  if (values.torchscript !== undefined) return { torchscript: resolve(values.torchscript) };
  return { weights: Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, wire(v)])) };
}

function reference(model: nn.Module, x: Tensor, y: Tensor, c: Case, individual: boolean): Record<string, unknown> {
  const input = {
    reference: values.reference,
    ...referenceModel(model),
    x: wire(x),
    y: wire(y),
    norm: c.norm,
    epsilon: c.epsilon,
    seed,
    individual,
    ...referenceRequest(c),
  };
  const script = fileURLToPath(new URL('../../bench/aa_reference.py', import.meta.url));
  const run = spawnSync(process.env.D2R_PYTHON ?? '/usr/bin/python3', [script], {
    input: JSON.stringify(input),
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`the reference failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const model = values.torchscript === undefined ? trainedMlp() : models.loadTorchScript(values.torchscript);
const test = data.loadDataset('fashion-mnist', { split: 'test', limit: n });
const { images: x, labels: y } = test;
const rows: Record<string, unknown>[] = [];
for (const spec of values.cases!.split(',')) {
  const c = parseCase(spec);
  const { norm, version, epsilon } = c;
  const options = { norm, epsilon, version, attacks: c.attacks, seed, batchSize: n };
  let started = performance.now();
  const ours = values.individual ? null : attacks.autoAttack(model, x, y, options);
  const oursIndividual = values.individual ? attacks.autoAttackIndividual(model, x, y, options) : null;
  const oursSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const theirs = reference(model, x, y, c, values.individual!);
  const theirSeconds = (performance.now() - started) / 1000;
  const row: Record<string, unknown> = {
    norm,
    version,
    epsilon,
    ...(c.attacks ? { attacks: c.attacks } : {}),
    model: values.torchscript ?? 'mlp',
    n,
    seed,
    oursSeconds,
    theirSeconds,
    clean: { ours: (ours ?? oursIndividual)!.cleanAccuracy, reference: theirs['clean'] ?? null },
  };
  if (ours) {
    const after = theirs['after'] as Record<string, number>;
    const robust = theirs['robust'] as boolean[];
    row['after'] = ours.attacks.map((a) => ({ attack: a.name, ours: a.robustAccuracy, reference: after[a.name] ?? null }));
    row['flagsDiffer'] = ours.robust.flatMap((r, i) => (r === robust[i] ? [] : [i]));
    row['same'] =
      ours.attacks.every((a) => Math.abs(a.robustAccuracy - (after[a.name] ?? NaN)) < 1e-4) &&
      (row['flagsDiffer'] as number[]).length === 0 &&
      Math.abs(ours.cleanAccuracy - (theirs['clean'] as number)) < 1e-6;
  } else {
    const each = theirs['individual'] as Record<string, boolean[]>;
    row['individual'] = oursIndividual!.attacks.map((a) => ({
      attack: a.name,
      ours: a.robustAccuracy,
      reference: each[a.name] ? each[a.name]!.filter(Boolean).length / n : null,
      flagsDiffer: a.robust.flatMap((r, i) => (r === each[a.name]?.[i] ? [] : [i])),
    }));
    row['same'] = (row['individual'] as { flagsDiffer: number[] }[]).every((r) => r.flagsDiffer.length === 0);
  }
  rows.push(row);
  process.stdout.write(JSON.stringify(row) + '\n');
}
writeJsonAtomic(values.out!, { rows });
process.stdout.write(
  `${rows.filter((r) => r['same']).length} of ${rows.length} cases the same as the reference; written to ${values.out}\n`,
);
