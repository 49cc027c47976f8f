// CAG, collaborative adversarial generation (D2R's inner maximisation): the
// adversary moves the target's prediction away from the guidance model's clean
// prediction p_G(x), computed once (TRADES would use the target's own).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { klGeneration, type Budget } from './generation.js';

export interface CagOptions extends Budget {
  /** The starting point x'_0 (default x + 0.001 N(0, I), not clamped before the first step). */
  init?: Tensor;
}

/**
 * K steps of x' <- P(x' + alpha * dir(grad_x' sum_{i,c} p_G (log(p_G + 1e-5) - log p_T(x')))),
 * P the eps-ball then [0, 1]. Returns a detached batch; both models run in eval
 * mode and get their previous modes back.
 */
export function cag(target: Module, guidance: Module, x: Tensor, options: CagOptions): Tensor {
  return klGeneration(target, guidance, x, options, options.init);
}
