// Pieces every attack shares: eval-mode handling, input checks, the step
// direction, the projection onto the threat model, random starts and seeding.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';

export type Norm = 'linf' | 'l2';

/** Runs fn with every model in eval mode; each gets its previous mode back, also on error. */
export function inEvalMode<T>(models: Module[], fn: () => T): T {
  const modes = models.map((m) => m.training);
  for (const m of models) m.eval();
  try {
    return fn();
  } finally {
    models.forEach((m, i) => m.train(modes[i]));
  }
}

/** The number of classes the model predicts (one forward of one point, in eval mode). */
export function classCount(model: Module, x: Tensor): number {
  return inEvalMode([model], () => torch.tidy(() => torch.noGrad(() => model.forward(x.narrow(0, 0, Math.min(1, x.shape[0]!))).shape[1]!)));
}

/** Checks x is a float NCHW batch in [0, 1] and y int64 labels of the same length. */
export function checkBatch(x: Tensor, y: Tensor, who: string): void {
  if (x.ndim !== 4) throw new Error(`${who}: expected x as [N, C, H, W], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`${who}: expected float x, got ${x.dtype}`);
  if (y.dtype !== 'int64' || y.ndim !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(`${who}: expected y as int64 [${x.shape[0]}], got ${y.dtype} [${y.shape.join(', ')}]`);
  }
  if (x.numel > 0) {
    const [low, high] = torch.tidy(() => [x.amin().item(), x.amax().item()]);
    if (!(low! >= 0 && high! <= 1)) throw new Error(`${who}: expected x in [0, 1], got values in [${low}, ${high}]`);
  }
}

/** Checks an attack budget: epsilon and step non-negative, steps a non-negative integer. */
export function checkBudget(o: { epsilon: number; stepSize: number; steps: number; norm?: string }, who: string): void {
  if (!(o.epsilon >= 0)) throw new Error(`${who}: epsilon must be >= 0, got ${o.epsilon}`);
  if (!(o.stepSize >= 0)) throw new Error(`${who}: stepSize must be >= 0, got ${o.stepSize}`);
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new Error(`${who}: steps must be a non-negative integer, got ${o.steps}`);
  if (o.norm !== undefined && o.norm !== 'linf' && o.norm !== 'l2') throw new Error(`${who}: norm must be 'linf' or 'l2', got '${o.norm}'`);
}

/** Checks the threat model of an attack: norm 'linf' or 'l2' and a finite epsilon >= 0. */
export function checkThreatModel(o: { norm: Norm; epsilon: number }, who: string): void {
  if (o.norm !== 'linf' && o.norm !== 'l2') throw new Error(`${who}: norm must be 'linf' or 'l2', got '${String(o.norm)}'`);
  if (!(Number.isFinite(o.epsilon) && o.epsilon >= 0)) throw new Error(`${who}: epsilon must be a finite number >= 0, got ${o.epsilon}`);
}

/** Checks an option is a positive integer, naming it in the error. */
export function positiveInteger(value: number, name: string, who: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${who}: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Checks an option is a non-negative integer, naming it in the error. */
export function nonNegativeInteger(value: number, name: string, who: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${who}: ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Checks an optional seed is a non-negative safe integer. */
export function checkSeed(seed: number | undefined, who: string): void {
  if (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0)) throw new Error(`${who}: seed must be a non-negative integer, got ${seed}`);
}

/** [N, 1, 1, ...]: a per-sample scalar broadcast over the other dimensions of t. */
function perSampleShape(t: Tensor): number[] {
  return [t.shape[0]!, ...t.shape.slice(1).map(() => 1)];
}

/** Per sample, a where mask [N] holds, else b (a and b shaped like [N, ...]). */
export function choosePerSample(mask: Tensor, a: Tensor, b: Tensor): Tensor {
  return torch.where(mask.view(perSampleShape(a)), a, b);
}

/** The L-inf or L2 norm of each sample, [N]. */
export function perSampleNorm(t: Tensor, norm: Norm): Tensor {
  const flat = t.flatten(1);
  return norm === 'linf' ? flat.abs().amax(1) : flat.square().sum(1).sqrt();
}

/** The L2 norm of each sample, shaped to broadcast against t. */
export function perSampleL2(t: Tensor): Tensor {
  return t.flatten(1).norm(2, 1).view(perSampleShape(t));
}

/** The ascent direction: sign(g) for L-inf, g / ||g||_2 per sample for L2. */
export function stepDirection(grad: Tensor, norm: Norm): Tensor {
  if (norm === 'linf') return grad.sign();
  return grad.div(perSampleL2(grad).add(1e-12)); // 1e-12: a zero gradient stays a zero step
}

/** Projects xAdv onto the eps-ball around x (L-inf or L2), then onto the [0, 1] box. */
export function project(xAdv: Tensor, x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return xAdv.clamp(x.sub(epsilon), x.add(epsilon)).clamp(0, 1);
  const delta = xAdv.sub(x);
  const factor = perSampleL2(delta).clamp(epsilon, null).reciprocal().mul(epsilon); // min(1, eps / ||delta||)
  // Clamping to the box moves every coordinate towards x, so the L2 bound still holds after it.
  return x.add(delta.mul(factor)).clamp(0, 1);
}

/** A uniform random point of the threat model: uniform in the L-inf ball, or in the L2 ball (uniform direction and radius). */
export function uniformStart(x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return x.add(torch.randLike(x).mul(2 * epsilon).sub(epsilon)).clamp(0, 1);
  const direction = torch.randnLike(x);
  const radius = torch.rand([x.shape[0]!], { dtype: x.dtype, device: x.device }).view(perSampleShape(x)).mul(epsilon);
  return x.add(direction.div(perSampleL2(direction).add(1e-12)).mul(radius)).clamp(0, 1);
}

/** TRADES' start x + 0.001 N(0, I), deliberately not clamped before the first step. */
export function gaussianStart(x: Tensor): Tensor {
  return x.add(torch.randnLike(x).mul(0.001));
}

/**
 * Runs fn with the random stream seeded by `seed`, then puts the CPU generator
 * back, so a seeded attack neither depends on nor disturbs the caller's stream.
 */
export function withSeed<T>(seed: number | undefined, fn: () => T): T {
  if (seed === undefined) return fn();
  const saved = torch.keep(torch.getRngState());
  try {
    torch.manualSeed(seed);
    return fn();
  } finally {
    torch.setRngState(saved);
    saved.dispose();
  }
}

/** The gradient of a scalar loss with respect to an input, without touching parameter gradients. */
export function inputGradient(loss: Tensor, input: Tensor): Tensor {
  return torch.grad(loss, input)[0]!;
}
