// The L1 pieces of APGD (Croce & Hein 2021, "Mind the box"): the projection
// onto the intersection of an L1 ball and the [0, 1] box, and the sparse step
// that moves only the coordinates of the largest gradient entries.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { perSampleNorm } from './common.js';
import { searchColumns } from './fab.js';

/**
 * The correction d per sample that puts x + delta + d into [0, 1] with
 * ||delta + d||_1 <= epsilon, shrinking each |delta_i| by the same threshold
 * (at least what the box needs, at most down to 0): x, delta [N, ...] -> d [N, ...].
 * The shrink total g(t) = sum_i clamp(t, boxCut_i, |delta_i|) is piecewise
 * linear in t; sorting its breakpoints and searching them finds the t with
 * g(t) = ||delta||_1 - epsilon. Computed in float32, as the reference.
 */
export function l1Projection(x: Tensor, delta: Tensor, epsilon: number): Tensor {
  return torch.tidy(() => {
    const n = x.shape[0]!;
    const point = x.float().flatten(1);
    const y = delta.float().flatten(1);
    const dim = y.shape[1]!;
    const magnitude = y.abs();
    // How far each coordinate must shrink to get back into the box (>= 0).
    const boxCut = torch.minimum(point.add(y).neg().add(1), point.add(y)).clamp(null, 0).neg();
    const breakpoints = torch.cat([boxCut, magnitude], 1).sort(1);
    const sorted = breakpoints.values;
    const next = torch.cat([sorted.slice(1, 1), torch.zeros([n, 1], { device: x.device })], 1);
    // The slope of g after each breakpoint: +1 where a coordinate starts shrinking, -1 where it reaches 0.
    const slope = breakpoints.indices.lt(dim).float().mul(2).sub(1).cumsum(1);
    const atBox = boxCut.sum(1);
    const room = magnitude.sum(1).neg().add(epsilon); // epsilon - ||delta||_1
    const g = next.sub(sorted).mul(slope).cumsum(1).add(atBox.unsqueeze(1)); // g at the next breakpoint
    const needsShrink = atBox.add(room).lt(0);
    const k = searchColumns(n, 2 * dim, x.device, (mid) => g.gather(1, mid).squeeze(1).add(room).lt(0));
    const threshold = g
      .gather(1, k)
      .neg()
      .sub(room.unsqueeze(1))
      .div(slope.gather(1, k.add(1).clamp(null, 2 * dim - 1)))
      .add(next.gather(1, k));
    const shrink = torch.where(needsShrink.unsqueeze(1), torch.minimum(torch.maximum(boxCut, threshold), magnitude), boxCut);
    return shrink.neg().mul(y.sign()).view(delta.shape).to(delta.dtype);
  });
}

/** Per sample, the number of non-zero entries of t, [N]. */
export function perSampleL0(t: Tensor): Tensor {
  return t.flatten(1).ne(0).sum(1);
}

/**
 * APGD's sparse L1 step: stepSize times the signs of the gradient entries at
 * least as large as its (1 - sparsity)-quantile (per sample), over their
 * count (unit L1 norm). sparsity: [N], the fraction of coordinates to move.
 */
export function sparseStep(grad: Tensor, sparsity: Tensor, stepSize: Tensor): Tensor {
  const n = grad.shape[0]!;
  const features = grad.numel / n;
  const perSample = [n, ...grad.shape.slice(1).map(() => 1)];
  const sorted = grad.abs().flatten(1).sort(1).values;
  const at = sparsity
    .neg()
    .add(1)
    .mul(features)
    .clamp(0, features - 1)
    .to('int64')
    .unsqueeze(1);
  const threshold = sorted.gather(1, at).view(perSample);
  const signs = grad.mul(grad.abs().ge(threshold).to(grad.dtype)).sign();
  return stepSize.mul(signs).div(perSampleNorm(signs, 'l1').view(perSample).add(1e-10));
}
