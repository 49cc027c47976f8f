// Adversarial generation used during training, on the shared attack pieces.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { inEvalMode, inputGradient, project, stepDirection, type Norm } from '../attacks/common.js';

export interface Budget {
  epsilon: number;
  stepSize: number;
  steps: number;
  norm?: Norm;
}

/**
 * Ascent on a divergence from fixed reference probabilities: maximises
 * sum_{i,c} ref * (log(ref + 1e-5) - log p_model(x')) from x + 0.001 N(0, I)
 * (or `init`), the step and projection of the threat model after each step.
 * TRADES and LBGAT use the target's own clean prediction as the reference;
 * CAG (D2R) uses the guidance model's. Models run in eval mode inside.
 */
export function divergenceAscent(model: Module, referenceModel: Module, x: Tensor, budget: Budget, init?: Tensor): Tensor {
  const norm = budget.norm ?? 'linf';
  return inEvalMode([model, referenceModel], () =>
    torch.tidy(() => {
      const reference = torch.noGrad(() => referenceModel.forward(x).softmax(1));
      const referenceLog = reference.add(1e-5).log();
      let adv = init ? init.detach() : x.add(torch.randnLike(x).mul(0.001));
      for (let k = 0; k < budget.steps; k++) {
        adv = torch.tidy(() => {
          const input = adv.detach().requiresGrad_();
          const grad = torch.enableGrad(() => {
            const loss = reference.mul(referenceLog.sub(model.forward(input).logSoftmax(1))).sum();
            return inputGradient(loss, input);
          });
          return project(input.detach().add(stepDirection(grad, norm).mul(budget.stepSize)), x, budget.epsilon, norm);
        });
      }
      return adv.detach();
    }),
  );
}
