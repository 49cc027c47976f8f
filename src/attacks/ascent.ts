// The projected steepest-ascent loop PGD, CAG and the TRADES-style generations
// share: x' <- P(x' + stepSize * dir(grad objective(x'))), P onto the eps-ball and [0, 1].
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { choosePerSample, inputGradient, project, stepDirection, type Norm } from './common.js';
import type { RunStepSink } from './attack.js';

export interface StepBudget {
  epsilon: number;
  stepSize: number;
  steps: number;
  norm?: Norm;
}

/**
 * Runs `budget.steps` projected ascent steps on `objective` (a scalar summed
 * over the batch, so each sample's gradient is its own) from `start`. The
 * caller sets the models' modes. Points for which `stopWhere(current)` holds
 * are not moved by a step (early stop); `onStep` is told the steps done after
 * each. Returns a detached batch; each step's graph and temporaries are freed
 * as it ends (torch.iterate).
 */
export function projectedAscent(
  x: Tensor,
  start: Tensor,
  objective: (input: Tensor) => Tensor,
  budget: StepBudget,
  stopWhere?: (input: Tensor) => Tensor,
  onStep?: RunStepSink,
): Tensor {
  const norm = budget.norm ?? 'linf';
  return torch.iterate(start.detach(), budget.steps, (adv, i) => {
    const input = adv.detach().requiresGrad_();
    const grad = torch.enableGrad(() => inputGradient(objective(input), input));
    const next = project(input.detach().add(stepDirection(grad, norm).mul(budget.stepSize)), x, budget.epsilon, norm);
    // Points where stopWhere holds stay where they are (early stop per point).
    const moved = stopWhere ? choosePerSample(stopWhere(adv.detach()), adv.detach(), next) : next;
    onStep?.(i + 1);
    return moved;
  });
}
