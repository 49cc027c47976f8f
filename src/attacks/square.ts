// Square attack (Andriushchenko et al. 2020), the score-based attack of AutoAttack
// "standard": random search over square windows using only the logits. Untargeted,
// on the margin z_y - max_{j != y} z_j, L-inf and L2, with the reference's start
// points, p schedule and window updates. The random draws sit behind SquareDraws so
// a run with fixed draws can be checked against a transcription of the reference.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { choosePerSample, perSampleL2, unitPerSample, type Norm } from './common.js';
import {
  checkThreatModel,
  defineAttack,
  nonNegativeInteger,
  numberIn,
  positiveInteger,
  runSteps,
  type AttackOptions,
  type RunStepSink,
} from './attack.js';
import { marginLoss } from './losses.js';
import { STANDARD_BUDGETS } from './versions.js';

export interface SquareOptions extends AttackOptions {
  norm: Norm;
  epsilon: number;
  /** Queries per restart after the start point (default 5000, as AutoAttack). */
  queries?: number;
  /** Fraction of the pixels a window covers at the start of the schedule. */
  pInit?: number;
  /** Restarts; each later restart attacks only the points not yet fooled. */
  restarts?: number;
}

/** (last rescaled query index, divisor of pInit) pairs of the reference schedule; later queries use pInit / 512. */
const SCHEDULE: readonly (readonly [number, number])[] = [
  [10, 1],
  [50, 2],
  [200, 4],
  [500, 8],
  [1000, 16],
  [2000, 32],
  [4000, 64],
  [6000, 128],
  [8000, 256],
];

/** The reference's p schedule (fraction of pixels per square) at query i, rescaled for 10000-query budgets as the reference does. */
export function squareFraction(pInit: number, query: number, queries: number): number {
  if (!Number.isInteger(queries) || queries < 1) throw new Error(`squareFraction: queries must be a positive integer, got ${queries}`);
  if (!Number.isInteger(query) || query < 0) throw new Error(`squareFraction: query must be a non-negative integer, got ${query}`);
  // Same float operations as the reference (i / n * 10000, truncated), so the boundaries agree.
  const at = Math.trunc((query / queries) * 10000);
  for (const [upTo, divisor] of SCHEDULE) if (at <= upTo) return pInit / divisor;
  return pInit / 512;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const low = Math.floor(v);
  const rest = v - low;
  if (rest !== 0.5) return Math.round(v);
  return low % 2 === 0 ? low : low + 1;
}

/**
 * The window side for fraction p of a C x H x W image: round(sqrt(p * H * W)), at
 * least 1 (L-inf) or at least 3 and odd (L2), then at most min(H, W).
 */
export function squareSide(norm: Norm, p: number, channels: number, height: number, width: number): number {
  // p * features / C rather than p * H * W: the reference's order of float operations.
  let side = Math.max(roundHalfEven(Math.sqrt((p * (channels * height * width)) / channels)), norm === 'l2' ? 3 : 1);
  if (norm === 'l2' && side % 2 === 0) side += 1;
  return Math.min(side, height, width);
}

/**
 * A window corner from a uniform draw u in [0, 1): floor(u * (extent - side)), as
 * the reference's random_int; like it, the last possible corner is never drawn.
 */
export function windowCorner(u: number, extent: number, side: number): number {
  return Math.floor(u * (extent - side));
}

/** Rings of weight 1 / (k + 1)^2 around the centre of a rows x cols block, unit L2 norm (row-major). */
function rings(rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  const rc = Math.floor(rows / 2);
  const cc = Math.floor(cols / 2);
  for (let k = 0; k <= Math.max(rc, cc); k++) {
    const weight = 1 / (k + 1) ** 2;
    for (let i = Math.max(rc - k, 0); i < Math.min(rc + k + 1, rows); i++) {
      for (let j = Math.max(cc - k, 0); j < Math.min(cc + k + 1, cols); j++) out[i * cols + j]! += weight;
    }
  }
  return unitL2(out);
}

function unitL2(v: Float64Array): Float64Array {
  const size = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  return size > 0 ? v.map((e) => e / size) : v;
}

/**
 * The L2 window pattern of side s (row-major, unit L2 norm): positive rings on the
 * top floor(s / 2) rows, negative rings below; transposed swaps top/bottom for left/right.
 */
export function squareEta(side: number, transposed: boolean): Float64Array {
  const top = Math.floor(side / 2);
  const upper = rings(top, side);
  const lower = rings(side - top, side);
  const eta = new Float64Array(side * side);
  eta.set(upper, 0);
  eta.set(
    lower.map((e) => -e),
    upper.length,
  );
  const unit = unitL2(eta);
  if (!transposed) return unit;
  return unit.map((_, k) => unit[(k % side) * side + Math.floor(k / side)]!);
}

/** The L2 start's tiling: square tiles of side max(floor(H / 5), 1) from (offset, offset), rows x cols of them. */
export function l2Tiles(height: number, width: number): { side: number; offset: number; rows: number; cols: number } {
  // The reference needs H >= 5 (side 0 otherwise); side 1 from corner 0 extends it to smaller images.
  const side = Math.max(Math.floor(height / 5), 1);
  const offset = Math.max(Math.floor((height - 5 * side) / 2), 0);
  return { side, offset, rows: Math.floor(height / side), cols: Math.floor(width / side) };
}

/** L-inf start: vertical stripes, x + eps * signs with signs [N, C, 1, W] of +-1, in [0, 1]. */
export function linfStart(x: Tensor, epsilon: number, signs: Tensor): Tensor {
  return x.add(signs.mul(epsilon)).clamp(0, 1);
}

/**
 * L2 start: each tile gets the window pattern (transposed per tile) times a +-1 sign
 * per point and channel (signs [tiles, N, C], tiles row-major); the sum is scaled to
 * L2 norm eps per point and clamped to [0, 1]. Tiles past the border are cut.
 */
export function l2Start(x: Tensor, epsilon: number, signs: Tensor, transposed: boolean[]): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const t = l2Tiles(h, w);
  const count = t.rows * t.cols;
  if (signs.shape[0] !== count || transposed.length !== count) {
    throw new Error(`l2Start: expected draws for ${count} tiles, got ${signs.shape[0]} signs and ${transposed.length} flags`);
  }
  const rowsIn = Math.min(t.rows * t.side, h - t.offset);
  const colsIn = Math.min(t.cols * t.side, w - t.offset);
  if (count === 0 || rowsIn <= 0 || colsIn <= 0) return x.detach().clone();
  const patterns = new Float64Array(count * t.side * t.side);
  transposed.forEach((flag, k) => patterns.set(squareEta(t.side, flag), k * t.side * t.side));
  const eta = torch.tensor(patterns, [1, 1, t.rows, t.cols, t.side, t.side], { dtype: x.dtype, device: x.device });
  // Tiles do not overlap, so the tiled pattern is one broadcast product laid out as an image.
  const grid = eta
    .mul(signs.permute([1, 2, 0]).reshape([n, c, t.rows, t.cols, 1, 1]))
    .permute([0, 1, 2, 4, 3, 5])
    .reshape([n, c, t.rows * t.side, t.cols * t.side])
    .narrow(2, 0, rowsIn)
    .narrow(3, 0, colsIn);
  const delta = torch.pad(grid, [t.offset, w - t.offset - colsIn, t.offset, h - t.offset - rowsIn]);
  return x.add(unitPerSample(delta, 'l2').mul(epsilon)).clamp(0, 1);
}

export interface Window {
  row: number;
  col: number;
  side: number;
}

/** The side x side window of an NCHW tensor at (row, col), as a view. */
function windowOf(t: Tensor, row: number, col: number, side: number): Tensor {
  return t.narrow(2, row, side).narrow(3, col, side);
}

/**
 * One L-inf proposal: xBest plus 2 eps * sign (signs [C], one per channel, shared by
 * the batch as in the reference) on the window, projected onto the eps-ball and [0, 1];
 * so the window becomes x +- eps and the rest stays as it was.
 */
export function linfProposal(xBest: Tensor, x: Tensor, epsilon: number, win: Window, signs: Tensor): Tensor {
  const c = x.shape[1]!;
  // Projecting xBest again is a no-op outside the window, so only the window is computed.
  const xs = windowOf(x, win.row, win.col, win.side);
  const moved = windowOf(xBest, win.row, win.col, win.side).add(signs.view([1, c, 1, 1]).mul(2 * epsilon));
  const proposal = xBest.clone();
  windowOf(proposal, win.row, win.col, win.side).copy_(moved.clamp(xs.sub(epsilon), xs.add(epsilon)).clamp(0, 1));
  return proposal;
}

export interface L2Window extends Window {
  /** Corner of the second window, whose perturbation mass moves into the first. */
  row2: number;
  col2: number;
  /** Whether the window pattern is transposed. */
  transposed: boolean;
}

/** Per-channel sum of squares over the two spatial dims, kept as [N, C, 1, 1]. */
function channelSquares(t: Tensor): Tensor {
  return t.square().sum([2, 3], true);
}

/** Patterns by side and orientation: a few distinct keys per run, so a small cache. */
const etaCache = new Map<string, Float64Array>();
function cachedEta(side: number, transposed: boolean): Float64Array {
  const key = `${side}:${transposed}`;
  let eta = etaCache.get(key);
  if (eta === undefined) etaCache.set(key, (eta = squareEta(side, transposed)));
  return eta;
}

/**
 * One L2 proposal (signs [N, C] of +-1): the first window gets the pattern times the
 * sign plus its old perturbation (unit norm per channel), rescaled per channel so it
 * takes the mass of both windows plus the unused budget; the second window is cleared.
 * The whole perturbation is then scaled to norm eps and clamped to [0, 1].
 */
export function l2Proposal(xBest: Tensor, x: Tensor, epsilon: number, win: L2Window, signs: Tensor): Tensor {
  const [n, c] = x.shape as [number, number];
  const s = win.side;
  const delta = xBest.sub(x);
  const old = windowOf(delta, win.row, win.col, s);
  const imageNorm = perSampleL2(delta);
  // Mass on the union of the windows: both windows minus their overlap (computed on the windows only).
  let unionSquares = channelSquares(old).add(channelSquares(windowOf(delta, win.row2, win.col2, s)));
  const [top, left] = [Math.max(win.row, win.row2), Math.max(win.col, win.col2)];
  const [rows, cols] = [Math.min(win.row, win.row2) + s - top, Math.min(win.col, win.col2) + s - left];
  if (rows > 0 && cols > 0)
    unionSquares = unionSquares.sub(channelSquares(delta.narrow(2, top, rows).narrow(3, left, cols))).clamp(0, null);
  const eta = torch.tensor(cachedEta(s, win.transposed), [1, 1, s, s], { dtype: x.dtype, device: x.device });
  const direction = eta.mul(signs.view([n, c, 1, 1])).add(old.div(channelSquares(old).sqrt().add(1e-12)));
  // Per channel: the windows' current mass plus an equal share of the budget left unused.
  const mass = imageNorm
    .square()
    .neg()
    .add(epsilon * epsilon)
    .clamp(0, null)
    .div(c)
    .add(unionSquares)
    .sqrt();
  const fresh = direction.div(channelSquares(direction).sqrt().add(1e-12)).mul(mass);
  // delta is this proposal's own copy: clear the second window, then write the first.
  windowOf(delta, win.row2, win.col2, s).zero_();
  windowOf(delta, win.row, win.col, s).copy_(fresh);
  // In the reference's order: x + delta / (||delta|| + 1e-12) * eps, in [0, 1].
  return unitPerSample(delta, 'l2').mul(epsilon).add(x).clamp(0, 1);
}

/** The random choices of one query. */
export interface QueryDraw {
  /** Corner of the window to change. */
  row: number;
  col: number;
  /** L2: corner of the window whose mass moves into the first (ignored for L-inf). */
  row2: number;
  col2: number;
  /** L2: whether the pattern is transposed (ignored for L-inf). */
  transposed: boolean;
  /** +-1: L-inf [C], shared by the batch as in the reference; L2 [N, C] for every point of the run. */
  signs: Tensor;
}

/** Where a run's randomness comes from: the default draws from the CPU generator; tests supply fixed ones. */
export interface SquareDraws {
  /** L-inf: stripe signs [N, C, 1, W]; L2: tile signs [tiles, N, C] (see l2Tiles). */
  startSigns: Tensor;
  /** L2: whether each start tile's pattern is transposed (empty for L-inf). */
  startTransposed: boolean[];
  /** The draws of query i (0-based) for a window of the given side. */
  query(i: number, side: number): QueryDraw;
}

/** +-1 with equal probability from uniforms drawn on the CPU (the generator withSeed saves), then moved. */
function randomSigns(shape: number[], dtype: Tensor['dtype'], device: string): Tensor {
  return torch.rand(shape).ge(0.5).to(dtype).mul(2).sub(1).to(device);
}

/**
 * Draws from the CPU generator, whatever the device, so a seed gives the same run
 * everywhere. Query draws come in chunks so a query costs no host-device copy.
 * Its tensors belong to the loop state it is part of (squareRun's): a new chunk
 * replaces the old one there, and the loop frees the old one.
 */
export class RandomDraws implements SquareDraws {
  readonly startSigns: Tensor;
  readonly startTransposed: boolean[];
  private readonly chunkSize: number;
  private chunkStart = -1;
  private corners: Float64Array = new Float64Array(0);
  private signs: Tensor | null = null;

  constructor(
    private readonly norm: Norm,
    private readonly shape: readonly number[],
    private readonly dtype: Tensor['dtype'],
    private readonly device: string,
  ) {
    const [n, c, h, w] = shape as [number, number, number, number];
    if (norm === 'linf') {
      this.startSigns = randomSigns([n, c, 1, w], dtype, device);
      this.startTransposed = [];
    } else {
      const t = l2Tiles(h, w);
      this.startTransposed = Array.from(
        torch.tidy(() => torch.rand([t.rows * t.cols]).toFloat64Array()),
        (u) => u > 0.5,
      );
      this.startSigns = randomSigns([t.rows * t.cols, n, c], dtype, device);
    }
    // Up to 100 queries per chunk, fewer for large L2 batches (about 1M sign values).
    this.chunkSize = norm === 'linf' ? 100 : Math.max(1, Math.min(100, Math.floor(2 ** 20 / Math.max(n * c, 1))));
  }

  query(i: number, side: number): QueryDraw {
    if (this.signs === null || i < this.chunkStart || i >= this.chunkStart + this.chunkSize) this.refill(i);
    const k = i - this.chunkStart;
    const u = this.corners.subarray(5 * k, 5 * k + 5);
    const [h, w] = [this.shape[2]!, this.shape[3]!];
    return {
      row: windowCorner(u[0]!, h, side),
      col: windowCorner(u[1]!, w, side),
      row2: windowCorner(u[2]!, h, side),
      col2: windowCorner(u[3]!, w, side),
      transposed: u[4]! > 0.5,
      signs: this.signs!.select(0, k),
    };
  }

  private refill(from: number): void {
    const [n, c] = [this.shape[0]!, this.shape[1]!];
    this.chunkStart = from;
    this.corners = torch.tidy(() => torch.rand([this.chunkSize, 5]).toFloat64Array());
    const perQuery = this.norm === 'linf' ? [c] : [n, c];
    this.signs = randomSigns([this.chunkSize, ...perQuery], this.dtype, this.device);
  }
}

export interface SquareRunOptions {
  norm: Norm;
  epsilon: number;
  queries: number;
  pInit: number;
  /** Told the queries done after each. */
  onStep?: RunStepSink;
}

/**
 * One run of the reference's attack on every point of x: start point, then per query
 * one window on the points whose margin is still >= 0, kept where the margin drops;
 * stops when every margin is negative. Returns each point's best proposal and margin.
 * Call under noGrad with the model in eval mode.
 */
export function squareRun(model: Module, x: Tensor, y: Tensor, o: SquareRunOptions, draws: SquareDraws): { adv: Tensor; margin: Tensor } {
  const [, c, h, w] = x.shape as [number, number, number, number];
  return torch.tidy(() => {
    const xBest =
      o.norm === 'linf' ? linfStart(x, o.epsilon, draws.startSigns) : l2Start(x, o.epsilon, draws.startSigns, draws.startTransposed);
    // xBest and marginBest are updated in place; the draws are in the state so their chunks are freed as they are replaced.
    const start = { xBest, marginBest: marginLoss(model.forward(xBest), y), draws };
    const final = torch.iterate(start, o.queries, (s, i) => {
      // The one host sync per query: which points are still correctly classified.
      const active = s.marginBest.ge(0).nonzero().view([-1]);
      if (active.shape[0] === 0) return torch.STOP;
      const side = squareSide(o.norm, squareFraction(o.pInit, i, o.queries), c, h, w);
      const d = s.draws.query(i, side);
      // While every point is active the batch is used as is (no gather copies).
      const pick = (t: Tensor): Tensor => (active.shape[0] === x.shape[0] ? t : t.indexSelect(0, active));
      const xs = pick(x);
      const best = pick(s.xBest);
      const before = pick(s.marginBest);
      const proposal =
        o.norm === 'linf'
          ? linfProposal(best, xs, o.epsilon, { row: d.row, col: d.col, side }, d.signs)
          : l2Proposal(best, xs, o.epsilon, { ...d, side }, pick(d.signs));
      const margin = marginLoss(model.forward(proposal), pick(y));
      const better = margin.lt(before);
      s.marginBest.indexCopy_(0, active, torch.where(better, margin, before));
      s.xBest.indexCopy_(0, active, choosePerSample(better, proposal, best));
      o.onStep?.(i + 1);
      return s;
    });
    return { adv: final.xBest, margin: final.marginBest };
  });
}

/** The checked options, defaults from AutoAttack's standard version. */
function resolveOptions(o: SquareOptions, who: string): SquareRunOptions & { restarts: number } {
  checkThreatModel(o, who);
  return {
    norm: o.norm,
    epsilon: o.epsilon,
    queries: nonNegativeInteger(o.queries ?? STANDARD_BUDGETS.queries, 'queries', who),
    pInit: numberIn(o.pInit ?? 0.8, 0, 1, 'pInit', who, true),
    restarts: positiveInteger(o.restarts ?? STANDARD_BUDGETS.restarts.square, 'restarts', who),
  };
}

/**
 * The Square attack, untargeted on the margin. Returns a detached batch like x with
 * each point's lowest-margin proposal (a fooling one where found); points the model
 * already gets wrong come back as x. The model runs in eval mode and gets its mode back.
 */
export const square = defineAttack('square', resolveOptions, (model, x, y, o, onStep) =>
  torch.noGrad(() => {
    if (x.shape[0] === 0 || o.epsilon === 0) return x.clone();
    const logits = model.forward(x);
    // Both updated in place. bestMargin: +inf still to attack; -inf wrong at clean, never attacked.
    const start = {
      best: x.detach().clone(),
      bestMargin: torch
        .full([x.shape[0]!], Infinity, { dtype: logits.dtype, device: logits.device })
        .maskedFill(logits.argmax(1).ne(y), -Infinity),
    };
    return torch.iterate(start, o.restarts, (s, restart) => {
      const todo = s.bestMargin.ge(0).nonzero().view([-1]);
      if (todo.shape[0] === 0) return torch.STOP;
      const xs = x.indexSelect(0, todo);
      const draws = new RandomDraws(o.norm, xs.shape, xs.dtype, xs.device);
      const run = squareRun(model, xs, y.indexSelect(0, todo), { ...o, onStep: runSteps(onStep, o.restarts, o.queries, restart) }, draws);
      const previous = s.bestMargin.indexSelect(0, todo);
      const better = run.margin.lt(previous);
      s.best.indexCopy_(0, todo, choosePerSample(better, run.adv, s.best.indexSelect(0, todo)));
      s.bestMargin.indexCopy_(0, todo, torch.where(better, run.margin, previous));
      return s;
    }).best;
  }),
);
