// Pieces every attack shares: eval-mode handling, seeding, per-sample norms,
// the step direction, the projection onto the threat model and random starts.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';

/** The threat models: L1 only for the attacks that have an L1 form (APGD). */
export type Norm = 'linf' | 'l2' | 'l1';

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

/** The number of classes the model predicts (one forward of one point, in eval mode). */
export function classCount(model: Module, x: Tensor): number {
  return inEvalMode([model], () => torch.tidy(() => torch.noGrad(() => model.forward(x.narrow(0, 0, Math.min(1, x.shape[0]!))).shape[1]!)));
}

/** [N, 1, 1, ...]: a per-sample scalar broadcast over the other dimensions of t. */
function perSampleShape(t: Tensor): number[] {
  return [t.shape[0]!, ...t.shape.slice(1).map(() => 1)];
}

/** Per sample, a where mask [N] holds, else b (a and b shaped like [N, ...]). */
export function choosePerSample(mask: Tensor, a: Tensor, b: Tensor): Tensor {
  return torch.where(mask.view(perSampleShape(a)), a, b);
}

/** The L-inf, L2 or L1 norm of each sample, [N]. */
export function perSampleNorm(t: Tensor, norm: Norm): Tensor {
  const flat = t.flatten(1);
  if (norm === 'l1') return flat.abs().sum(1);
  return norm === 'linf' ? flat.abs().amax(1) : flat.norm(2, 1);
}

/** The L2 norm of each sample, shaped to broadcast against t. */
export function perSampleL2(t: Tensor): Tensor {
  return perSampleNorm(t, 'l2').view(perSampleShape(t));
}

/** Each sample divided by its norm (+1e-12, so a zero sample stays zero): the one normaliser of the attacks. */
export function unitPerSample(t: Tensor, norm: Norm): Tensor {
  return t.div(perSampleNorm(t, norm).add(1e-12).view(perSampleShape(t)));
}

/** The ascent direction: sign(g) for L-inf, g / ||g||_2 per sample for L2. */
export function stepDirection(grad: Tensor, norm: Norm): Tensor {
  return norm === 'linf' ? grad.sign() : unitPerSample(grad, 'l2');
}

/** Projects xAdv onto the eps-ball around x (L-inf or L2), then onto the [0, 1] box. */
export function project(xAdv: Tensor, x: Tensor, epsilon: number, norm: Norm): Tensor {
  if (norm === 'linf') return xAdv.clamp(x.sub(epsilon), x.add(epsilon)).clamp(0, 1);
  const delta = xAdv.sub(x);
  const factor = perSampleL2(delta).clamp(epsilon, null).reciprocal().mul(epsilon); // min(1, eps / ||delta||)
  // Clamping to the box moves every coordinate towards x, so the L2 bound still holds after it.
  return x.add(delta.mul(factor)).clamp(0, 1);
}

/**
 * A random start around x, clamped to [0, 1]. 'ball' (PGD): uniform in the
 * L-inf ball of the radius, or in the L2 ball (uniform direction, radius
 * uniform in [0, radius]). 'sphere' (APGD, FAB): x + radius * t / ||t|| with
 * t uniform in [-1, 1] (L-inf) or Gaussian (L2), so on the ball's surface.
 */
export function randomStart(x: Tensor, radius: number, norm: Norm, region: 'ball' | 'sphere'): Tensor {
  if (norm === 'linf' && region === 'ball')
    return x
      .add(
        torch
          .randLike(x)
          .mul(2 * radius)
          .sub(radius),
      )
      .clamp(0, 1);
  const t = norm === 'linf' ? torch.randLike(x).mul(2).sub(1) : torch.randnLike(x);
  const length =
    region === 'sphere' ? radius : torch.rand([x.shape[0]!], { dtype: x.dtype, device: x.device }).view(perSampleShape(x)).mul(radius);
  return x.add(unitPerSample(t, norm).mul(length)).clamp(0, 1);
}

/** TRADES' start x + 0.001 N(0, I), deliberately not clamped before the first step. */
export function gaussianStart(x: Tensor): Tensor {
  return x.add(torch.randnLike(x).mul(0.001));
}

/** The gradient of a scalar loss with respect to an input, without touching parameter gradients. */
export function inputGradient(loss: Tensor, input: Tensor): Tensor {
  return torch.grad(loss, input)[0]!;
}
