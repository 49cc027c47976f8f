// The one home of KL-to-clean adversarial generation during training: x'
// maximises sum_i KL(p_ref(x_i) || p_model(x'_i)) from x + 0.001 N(0, I).
// TRADES, LBGAT and D2R's target-only ablation use the model's own clean
// prediction as the reference; CAG (D2R) uses the guidance model's.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { gaussianStart } from '../attacks/common.js';
import { attackFrame, checkBudget } from '../attacks/attack.js';
import { projectedAscent, type StepBudget } from '../attacks/ascent.js';
import { klToReference } from '../attacks/losses.js';

export type Budget = StepBudget;

/** The budget part of a method's options, with the default norm filled in. */
export function budgetOf(o: Budget): Required<Budget> {
  return { epsilon: o.epsilon, stepSize: o.stepSize, steps: o.steps, norm: o.norm ?? 'linf' };
}

/**
 * The adversarial batch (detached) for `model` against `reference`'s clean
 * prediction, computed once. Runs in the attacks' frame: both models in eval
 * mode (modes restored), each step's tensors freed as it ends. `init` replaces
 * the Gaussian start.
 */
export function klGeneration(model: Module, reference: Module, x: Tensor, budget: Budget, init?: Tensor): Tensor {
  checkBudget(budget, 'adversarial generation');
  return attackFrame([model, reference], undefined, () => {
    const referenceProbs = torch.noGrad(() => reference.forward(x).softmax(1));
    const start = init ?? gaussianStart(x);
    return projectedAscent(x, start, (input) => klToReference(referenceProbs, model.forward(input)), budget);
  });
}

/** TRADES-style generation: away from the model's own clean prediction. */
export function targetKlGeneration(model: Module, x: Tensor, budget: Budget, init?: Tensor): Tensor {
  return klGeneration(model, model, x, budget, init);
}
