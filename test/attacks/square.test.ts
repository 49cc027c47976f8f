// Square attack: the p schedule and window sides, the window patterns, the start
// points and window updates, and short runs with fixed random draws against a
// PyTorch transcription of the reference; then the contract of square().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { torch, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { type Module } from '../../src/nn/index.js';
import {
  square,
  squareFraction,
  squareSide,
  squareEta,
  l2Tiles,
  linfStart,
  l2Start,
  linfProposal,
  l2Proposal,
  squareRun,
  type QueryDraw,
  type SquareDraws,
} from '../../src/attacks/square.js';
import { pytorch, assertClose, type OracleInput } from '../helpers/oracle.js';
import { fixture, Probe } from './fixtures.js';

/** The threat-model bound as float32 can hold it: x +- eps is rounded to float32 (half an ulp at 1 is 6e-8). */
function bound(eps: number): number {
  return eps * (1 + 1e-6) + 1e-7;
}

/** +-1 with equal probability. */
function signs(shape: number[]): Tensor {
  return torch.rand(shape).ge(0.5).float().mul(2).sub(1);
}

const BUDGETS = [5000, 10000, 1000, 333, 7];
type SideCase = [norm: 'linf' | 'l2', p: number, c: number, h: number, w: number];
/** Square and non-square images, caps, and sqrt(6.25) = 2.5 (Python rounds halves to even). */
const SIDE_CASES: SideCase[] = [];
for (const norm of ['linf', 'l2'] as const) {
  for (const [c, h, w] of [
    [3, 32, 32],
    [1, 28, 28],
    [3, 10, 14],
    [3, 5, 40],
    [1, 2, 3],
    [3, 224, 224],
  ] as const) {
    for (let j = 0; j <= 9; j++) SIDE_CASES.push([norm, 0.8 / 2 ** j, c, h, w]);
  }
  SIDE_CASES.push([norm, 0.25, 3, 5, 5]);
}
let staticRef: ReturnType<typeof pytorch> | undefined;
/** One Python run for the schedule of every query of BUDGETS, the sides of SIDE_CASES and the patterns of sides 1..11. */
function staticOracle(): ReturnType<typeof pytorch> {
  return (staticRef ??= pytorch('square.py', 'schedule', { p_init: 0.8, budgets: BUDGETS, side_cases: SIDE_CASES }));
}

test('squareFraction: the reference schedule at its boundaries, rescaled to 10000-query budgets', () => {
  const p = 0.8;
  // Budget 10000: the boundaries as stated (<=10: p, <=50: p/2, ..., >8000: p/512).
  const at10000: [number, number][] = [
    [0, 1],
    [10, 1],
    [11, 2],
    [50, 2],
    [51, 4],
    [200, 4],
    [201, 8],
    [500, 8],
    [501, 16],
    [1000, 16],
    [1001, 32],
    [2000, 32],
    [2001, 64],
    [4000, 64],
    [4001, 128],
    [6000, 128],
    [6001, 256],
    [8000, 256],
    [8001, 512],
    [9999, 512],
  ];
  for (const [i, div] of at10000) assert.equal(squareFraction(p, i, 10000), p / div, `query ${i} of 10000`);
  // Budget 5000: query i counts as int(i / 5000 * 10000) = 2i.
  const at5000: [number, number][] = [
    [0, 1],
    [5, 1],
    [6, 2],
    [10, 2],
    [11, 2],
    [25, 2],
    [26, 4],
    [50, 4],
    [51, 4],
    [100, 4],
    [101, 8],
    [200, 8],
    [201, 8],
    [250, 8],
    [251, 16],
    [500, 16],
    [501, 32],
    [1000, 32],
    [1001, 64],
    [2000, 64],
    [2001, 128],
    [3000, 128],
    [3001, 256],
    [4000, 256],
    [4001, 512],
    [4999, 512],
    [6000, 512],
    [8000, 512],
    [8001, 512],
  ];
  for (const [i, div] of at5000) assert.equal(squareFraction(p, i, 5000), p / div, `query ${i} of 5000`);
  // Every query of a few budgets against the transcription (float truncation included).
  const ref = staticOracle();
  const ours = BUDGETS.flatMap((n) => Array.from({ length: n }, (_, i) => squareFraction(0.8, i, n)));
  assert.deepEqual(ours, ref['p']!.data);
  assert.throws(() => squareFraction(0.8, 1, 0), /queries must be a positive integer/);
  assert.throws(() => squareFraction(0.8, -1, 10), /query must be a non-negative integer/);
});

test('window sides and patterns equal the transcription (Python rounding, caps, odd L2 sides)', () => {
  const ref = staticOracle();
  assert.deepEqual(
    SIDE_CASES.map(([norm, p, c, h, w]) => squareSide(norm, p, c, h, w)),
    ref['sides']!.data,
  );
  assert.equal(squareSide('linf', 0.25, 3, 5, 5), 2);
  const etas = Array.from({ length: 11 }, (_, k) => k + 1).flatMap((s) => [false, true].flatMap((f) => Array.from(squareEta(s, f))));
  assertClose(torch.tensor(etas), ref['eta']!, { atol: 1e-6, rtol: 0, what: 'eta' });
  assert.deepEqual(l2Tiles(32, 32), { side: 6, offset: 1, rows: 5, cols: 5 });
  assert.deepEqual(l2Tiles(3, 4), { side: 1, offset: 0, rows: 3, cols: 4 }); // the reference has no tiling below 5 rows
});

test('start points and window updates equal the transcription with the same draws', () => {
  torch.manualSeed(11);
  const n = 4;
  const oracleCases: OracleInput[] = [];
  const cases: { name: string; shape: [number, number, number]; eps: number }[] = [
    { name: 'a', shape: [3, 10, 14], eps: 0.05 },
    { name: 'b', shape: [1, 11, 11], eps: 0.05 },
  ];
  const ours: Record<string, Tensor> = {};
  for (const {
    name,
    shape: [c, h, w],
    eps,
  } of cases) {
    const x = torch.rand([n, c, h, w]).mul(1.4).sub(0.2).clamp(0, 1); // exact 0s and 1s exercise the box
    const t = l2Tiles(h, w);
    const linfSigns = signs([n, c, 1, w]);
    const tileSigns = signs([t.rows * t.cols, n, c]);
    const flags = Array.from(torch.rand([t.rows * t.cols]).toFloat32Array(), (u) => u > 0.5);
    // Three chained updates from each start: the second window overlaps the first, the last touches the corner.
    const windows = [
      [2, 3, 5],
      [4, 1, 6],
      [h - 3, w - 3, 3],
    ] as const;
    const seconds = [
      [0, 0],
      [5, 5],
      [1, 7],
    ] as const;
    const channelSigns = windows.map(() => signs([c]));
    const pointSigns = windows.map(() => signs([n, c]));
    let a = linfStart(x, eps, linfSigns);
    ours[`linf0${name}`] = a;
    const l2eps = eps * 20;
    let b = l2Start(x, l2eps, tileSigns, flags);
    ours[`l20${name}`] = b;
    const oracleWindows: OracleInput[] = [];
    windows.forEach(([row, col, side], k) => {
      const [row2, col2] = [Math.min(seconds[k]![0], h - side), Math.min(seconds[k]![1], w - side)];
      const flip = k === 1;
      a = linfProposal(a, x, eps, { row, col, side }, channelSigns[k]!);
      b = l2Proposal(b, x, l2eps, { row, col, side, row2, col2, transposed: flip }, pointSigns[k]!);
      ours[`linf${k + 1}${name}`] = a;
      ours[`l2${k + 1}${name}`] = b;
      oracleWindows.push({ row, col, side, row2, col2, flip, channel_signs: channelSigns[k]!, point_signs: pointSigns[k]! });
    });
    oracleCases.push({ name, x, eps, l2eps, linf_signs: linfSigns, tile_signs: tileSigns, flags, windows: oracleWindows });
    assert.ok(a.sub(x).abs().amax().item() <= bound(eps));
    assert.ok(b.sub(x).flatten(1).norm(2, 1).amax().item() <= bound(l2eps));
  }
  const ref = pytorch('square.py', 'updates', { cases: oracleCases });
  for (const [k, v] of Object.entries(ours)) assertClose(v, ref[k]!, { atol: 1e-6, rtol: 0, what: k });
});

/** A linear classifier on C x H x W images, built in both engines from the same weights. */
function linearNet(c: number, h: number, w: number): Module {
  return new nn.Sequential({ flat: new nn.Flatten(), fc: new nn.Linear(c * h * w, 10) });
}

class FixedDraws implements SquareDraws {
  constructor(
    readonly startSigns: Tensor,
    readonly startTransposed: boolean[],
    readonly uniforms: number[][],
    readonly signs: Tensor,
    readonly h: number,
    readonly w: number,
  ) {}
  query(i: number, side: number): QueryDraw {
    const u = this.uniforms[i]!;
    const corner = (v: number, extent: number): number => Math.floor(v * (extent - side));
    return {
      row: corner(u[0]!, this.h),
      col: corner(u[1]!, this.w),
      row2: corner(u[2]!, this.h),
      col2: corner(u[3]!, this.w),
      transposed: u[4]! > 0.5,
      signs: this.signs.select(0, i),
    };
  }
}

test('linf and l2 runs with fixed draws equal the transcription, query by query', () => {
  torch.manualSeed(5);
  const [n, c, h, w, queries] = [8, 3, 10, 12, 25];
  const model = linearNet(c, h, w).eval();
  const x = torch.rand([n, c, h, w]);
  const y = torch.noGrad(() => model.forward(x).argmax(1));
  const t = l2Tiles(h, w);
  const oracleRuns: OracleInput[] = [];
  const runs = (['linf', 'l2'] as const).map((norm) => {
    const eps = norm === 'linf' ? 0.04 : 0.6;
    const startSigns = norm === 'linf' ? signs([n, c, 1, w]) : signs([t.rows * t.cols, n, c]);
    const flags = norm === 'linf' ? [] : Array.from(torch.rand([t.rows * t.cols]).toFloat32Array(), (u) => u > 0.5);
    const U = torch.rand([queries, 5]).double();
    const SG = norm === 'linf' ? signs([queries, c]) : signs([queries, n, c]);
    oracleRuns.push({ norm, eps, sg0: startSigns, flags, U, SG });
    const draws = new FixedDraws(startSigns, flags, U.toArray() as number[][], SG, h, w);
    return { norm, ...torch.noGrad(() => squareRun(model, x, y, { norm, epsilon: eps, queries, pInit: 0.8 }, draws)) };
  });
  const ref = pytorch('square.py', 'runs', { ...model.stateDict(), x, y, queries, p_init: 0.8, runs: oracleRuns });
  for (const { norm, adv, margin } of runs) {
    assertClose(margin, ref[`margin${norm}`]!, { atol: 1e-5, rtol: 1e-5, what: `${norm} margin` });
    assertClose(adv, ref[`adv${norm}`]!, { atol: 2e-6, rtol: 0, what: `${norm} adv` });
    // The draws matter: the run lowered margins beyond the start and fooled some points but not all.
    const start = ref[`start${norm}`]!.data;
    const end = margin.toNumbers();
    assert.ok(
      end.some((m, i) => m < start[i]! - 1e-3),
      `${norm}: some update was accepted`,
    );
    assert.ok(end.some((m) => m < 0) && end.some((m) => m >= 0), `${norm}: fooled some, not all: ${end}`);
  }
});

function fooledCount(model: Module, x: Tensor, y: Tensor): number {
  return torch.noGrad(() => model.forward(x).argmax(1).ne(y).sum().item());
}

for (const norm of ['linf', 'l2'] as const) {
  test(`square ${norm}: threat model, detached, eval mode, seeding, misclassified points kept, weaker than clean`, () => {
    const { target, x, y } = fixture();
    const eps = norm === 'linf' ? 0.1 : 0.5;
    const size = (a: Tensor): number =>
      norm === 'linf' ? a.double().sub(x.double()).abs().amax().item() : a.double().sub(x.double()).flatten(1).norm(2, 1).amax().item();
    target.train();
    const before = Object.entries(target.stateDict()).map(([k, v]) => [k, v.clone()] as const);
    const o = { norm, epsilon: eps, queries: 300, seed: 3 };
    torch.manualSeed(8);
    const a = square(target, x, y, o);
    const next = torch.rand([3]).toNumbers();
    torch.manualSeed(8);
    const b = square(target, x, y, o);
    assert.deepEqual(torch.rand([3]).toNumbers(), next, 'the caller random stream is untouched');
    assert.deepEqual(a.toNumbers(), b.toNumbers(), 'same seed, same result');
    assert.equal(target.training, true);
    for (const [k, v] of before) assert.deepEqual(target.stateDict()[k]!.toNumbers(), v.toNumbers(), `${k} changed: not in eval mode`);
    assert.equal(a.requiresGrad, false);
    assert.deepEqual(a.shape, x.shape);
    assert.ok(a.amin().item() >= 0 && a.amax().item() <= 1);
    assert.ok(size(a) <= bound(eps), `perturbation ${size(a)}`);
    // Points the model gets wrong at clean come back as x, bit for bit.
    target.eval();
    const wrong = torch.noGrad(() => target.forward(x).argmax(1).ne(y)).toNumbers();
    assert.ok(wrong.some(Boolean) && !wrong.every(Boolean), `fixture labels: a mix of right and wrong ${wrong}`);
    const ax = a.toNumbers();
    const xx = x.toNumbers();
    const per = x.numel / x.shape[0]!;
    wrong.forEach((isWrong, i) => {
      if (isWrong) assert.deepEqual(ax.slice(i * per, (i + 1) * per), xx.slice(i * per, (i + 1) * per), `point ${i} changed`);
    });
    // Against the model's own clean predictions (clean accuracy 100%), the attack fools some points.
    const yClean = torch.noGrad(() => target.forward(x).argmax(1));
    const adv = square(target, x, yClean, o);
    const fooled = fooledCount(target, adv, yClean);
    assert.ok(fooled > 0, 'robust accuracy below clean accuracy');
    assert.ok(size(adv) <= bound(eps));
    assert.notDeepEqual(square(target, x, yClean, { ...o, seed: 4 }).toNumbers(), adv.toNumbers(), 'another seed, another run');
    // A second restart only adds fooled points: its first restart is the single-restart run.
    const twice = square(target, x, yClean, { ...o, queries: 20, restarts: 2 });
    const once = square(target, x, yClean, { ...o, queries: 20 });
    const onceWrong = torch.noGrad(() => target.forward(once).argmax(1).ne(yClean)).toNumbers();
    const twiceWrong = torch.noGrad(() => target.forward(twice).argmax(1).ne(yClean)).toNumbers();
    onceWrong.forEach((f, i) => assert.ok(!f || twiceWrong[i], `point ${i} lost by the second restart`));
  });
}

test('square: any NCHW size, empty batches, zero epsilon and queries, default budget', () => {
  torch.manualSeed(2);
  for (const [c, h, w] of [
    [3, 5, 9],
    [2, 3, 4],
    [1, 1, 6],
    [3, 19, 12],
  ] as const) {
    const model = linearNet(c, h, w);
    const x = torch.rand([5, c, h, w]);
    const y = torch.noGrad(() => model.forward(x).argmax(1));
    for (const [norm, eps] of [
      ['linf', 0.05],
      ['l2', 0.5],
    ] as const) {
      const adv = square(model, x, y, { norm, epsilon: eps, queries: 30, seed: 1 });
      assert.deepEqual(adv.shape, x.shape);
      const d = adv.double().sub(x.double());
      const size = norm === 'linf' ? d.abs().amax().item() : d.flatten(1).norm(2, 1).amax().item();
      assert.ok(size <= bound(eps) && size > 0, `${norm} [${c}, ${h}, ${w}]: ${size}`);
      assert.ok(adv.amin().item() >= 0 && adv.amax().item() <= 1);
    }
  }
  const model = linearNet(3, 6, 6);
  const empty = square(model, torch.rand([0, 3, 6, 6]), torch.zeros([0], { dtype: 'int64' }), { norm: 'linf', epsilon: 0.1 });
  assert.deepEqual(empty.shape, [0, 3, 6, 6]);
  const x = torch.rand([4, 3, 6, 6]);
  const y = torch.noGrad(() => model.forward(x).argmax(1));
  assert.deepEqual(square(model, x, y, { norm: 'l2', epsilon: 0 }).toNumbers(), x.toNumbers());
  // No queries: the stripes start, x + eps * (+-1 per point, channel and column), here away from the box.
  const inner = x.mul(0.8).add(0.1);
  const yInner = torch.noGrad(() => model.forward(inner).argmax(1));
  const d = square(model, inner, yInner, { norm: 'linf', epsilon: 0.05, queries: 0, seed: 1 }).sub(inner);
  assert.ok(d.abs().sub(0.05).abs().amax().item() < 1e-6, 'every pixel moved by eps');
  assert.ok(
    d
      .sub(d.narrow(2, 0, 1))
      .abs()
      .amax()
      .item() < 1e-6,
    'one sign per column',
  );
  // The default budget: a clean pass, the start, then 5000 queries (a budget too small to fool anything).
  const counting = new Probe(model);
  const adv = square(counting, x, y, { norm: 'linf', epsilon: 1e-4, seed: 1 });
  assert.equal(counting.calls, 5002);
  assert.ok(adv.sub(x).abs().amax().item() <= bound(1e-4));
});

test('square rejects bad inputs and options, and restores the mode when the model throws', () => {
  const { target, x, y } = fixture();
  const o = { norm: 'linf', epsilon: 0.1, queries: 5 } as const;
  assert.throws(() => square(target, x.mul(2), y, o), /square: expected x in \[0, 1\]/);
  assert.throws(() => square(target, x.flatten(1), y, o), /square: expected x as \[N, C, H, W\]/);
  assert.throws(() => square(target, x, y.float(), o), /square: expected y as int64/);
  assert.throws(() => square(target, x, y, { ...o, norm: 'l1' as 'l2' }), /norm must be 'linf' or 'l2', got 'l1'/);
  assert.throws(() => square(target, x, y, { ...o, epsilon: -0.1 }), /epsilon must be a finite number >= 0/);
  assert.throws(() => square(target, x, y, { ...o, epsilon: NaN }), /epsilon must be a finite number >= 0/);
  assert.throws(() => square(target, x, y, { ...o, queries: 2.5 }), /queries must be a non-negative integer/);
  assert.throws(() => square(target, x, y, { ...o, pInit: 0 }), /pInit must be in \(0, 1\]/);
  assert.throws(() => square(target, x, y, { ...o, pInit: 1.5 }), /pInit must be in \(0, 1\]/);
  assert.throws(() => square(target, x, y, { ...o, restarts: 0 }), /restarts must be a positive integer/);
  assert.throws(() => square(target, x, y, { ...o, seed: -1 }), /seed must be a non-negative integer/);
  for (const [mode, failOn] of [
    [true, 1],
    [false, 3],
  ] as const) {
    const failing = new Probe(target, failOn).train(mode);
    assert.throws(() => square(failing, x, y, { ...o, seed: 1 }), /forward failed/);
    assert.equal(failing.training, mode);
    assert.equal(target.training, mode);
  }
});
