// Pieces every attack shares: eval-mode handling, input checks, the step
// direction and the projection onto the threat model.
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

/** Checks x is a float NCHW batch and y int64 labels of the same length. */
export function checkBatch(x: Tensor, y: Tensor, who: string): void {
  if (x.ndim !== 4) throw new Error(`${who}: expected x as [N, C, H, W], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new Error(`${who}: expected float x, got ${x.dtype}`);
  if (y.dtype !== 'int64' || y.ndim !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(`${who}: expected y as int64 [${x.shape[0]}], got ${y.dtype} [${y.shape.join(', ')}]`);
  }
}

function perSampleView(t: Tensor): number[] {
  return [t.shape[0]!, ...t.shape.slice(1).map(() => 1)];
}

/** The ascent direction: sign(g) for L-inf, g / ||g||_2 per sample for L2. */
export function stepDirection(grad: Tensor, norm: Norm): Tensor {
  if (norm === 'linf') return grad.sign();
  const norms = grad.flatten(1).norm(2, 1).view(perSampleView(grad));
  return grad.div(norms.add(1e-12));
}

/** Projects xAdv onto the eps-ball around x (L-inf or L2), then onto the [0, 1] box. */
export function project(xAdv: Tensor, x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return xAdv.clamp(x.sub(epsilon), x.add(epsilon)).clamp(0, 1);
  const delta = xAdv.sub(x);
  const norms = delta.flatten(1).norm(2, 1).view(perSampleView(delta));
  const factor = norms.clamp(epsilon, null).reciprocal().mul(epsilon); // min(1, eps / ||delta||)
  return x.add(delta.mul(factor)).clamp(0, 1);
}

/** A random start inside the threat model: uniform in the L-inf ball, or a Gaussian scaled into the L2 ball. */
export function randomStart(x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return x.add(torch.randLike(x).mul(2 * epsilon).sub(epsilon)).clamp(0, 1);
  const noise = torch.randnLike(x);
  const norms = noise.flatten(1).norm(2, 1).view(perSampleView(noise));
  const radius = torch.rand([x.shape[0]!], { dtype: x.dtype }).view(perSampleView(noise)).mul(epsilon);
  return x.add(noise.div(norms.add(1e-12)).mul(radius)).clamp(0, 1);
}

/** The gradient of a scalar loss with respect to an input, without touching parameter gradients. */
export function inputGradient(loss: Tensor, input: Tensor): Tensor {
  return torch.grad(loss, input)[0]!;
}
