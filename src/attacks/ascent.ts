// The projected steepest-ascent loop PGD, CAG and the TRADES-style generations
// share: x' <- P(x' + stepSize * dir(grad objective(x'))), P onto the eps-ball and [0, 1].
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { inputGradient, project, stepDirection, type Norm } from './common.js';

export interface StepBudget {
  epsilon: number;
  stepSize: number;
  steps: number;
  norm?: Norm;
}

/**
 * Runs `budget.steps` projected ascent steps on `objective` (a scalar summed
 * over the batch, so each sample's gradient is its own) from `start`. The
 * caller sets the models' modes. Returns a detached batch; each step's graph
 * and temporaries are freed as it ends.
 */
export function projectedAscent(x: Tensor, start: Tensor, objective: (input: Tensor) => Tensor, budget: StepBudget): Tensor {
  const norm = budget.norm ?? 'linf';
  let adv = start.detach();
  for (let k = 0; k < budget.steps; k++) {
    const previous = adv;
    adv = torch.tidy(() => {
      const input = previous.detach().requiresGrad_();
      const grad = torch.enableGrad(() => inputGradient(objective(input), input));
      return project(input.detach().add(stepDirection(grad, norm).mul(budget.stepSize)), x, budget.epsilon, norm);
    });
    previous.dispose(); // our own handle (the first is a detached view of the caller's start)
  }
  return adv;
}
