// CAG, collaborative adversarial generation (D2R's inner maximisation): the
// adversary moves the target's prediction away from the guidance model's clean
// prediction p_G(x), computed once.
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { divergenceAscent, type Budget } from './generation.js';

export interface CagOptions extends Budget {
  /** The starting point x'_0 (default x + 0.001 N(0, I), not clamped before the first step). */
  init?: Tensor;
}

/** The CAG adversarial batch (detached); both models run in eval mode and get their modes back. */
export function cag(target: Module, guidance: Module, x: Tensor, o: CagOptions): Tensor {
  return divergenceAscent(target, guidance, x, o, o.init);
}
