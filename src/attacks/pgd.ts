// Projected gradient descent (Madry et al.): L-inf or L2, CE or margin loss,
// uniform / Gaussian / no random start, restarts keeping the per-point worst case.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { checkBatch, inEvalMode, inputGradient, project, randomStart, stepDirection, type Norm } from './common.js';
import { attackLoss, type AttackLoss } from './losses.js';

export interface PgdOptions {
  epsilon: number;
  stepSize: number;
  steps: number;
  norm?: Norm;
  loss?: AttackLoss;
  randomStart?: 'uniform' | 'gaussian' | 'none';
  restarts?: number;
  /** Seeds the random start (the global stream is used when omitted). */
  seed?: number;
}

/**
 * Iterates x' <- P(x' + stepSize * dir(grad loss)) from the chosen start. With
 * restarts, a point keeps the first restart that fools the model. Returns a
 * detached batch; the model runs in eval mode and gets its mode back.
 */
export function pgd(model: Module, x: Tensor, y: Tensor, o: PgdOptions): Tensor {
  checkBatch(x, y, 'pgd');
  const norm = o.norm ?? 'linf';
  const loss = o.loss ?? 'ce';
  const start = o.randomStart ?? 'uniform';
  if (o.seed !== undefined) torch.manualSeed(o.seed);
  return inEvalMode([model], () =>
    torch.tidy(() => {
      let best = x.detach();
      let fooled = torch.zeros([x.shape[0]!], { dtype: 'bool' });
      for (let r = 0; r < (o.restarts ?? 1); r++) {
        let adv = start === 'uniform' ? randomStart(x, o.epsilon, norm)
          : start === 'gaussian' ? x.add(torch.randnLike(x).mul(0.001)) : x.detach();
        for (let k = 0; k < o.steps; k++) {
          adv = torch.tidy(() => {
            const input = adv.detach().requiresGrad_();
            const grad = torch.enableGrad(() => inputGradient(attackLoss(loss, model.forward(input), y), input));
            return project(input.detach().add(stepDirection(grad, norm).mul(o.stepSize)), x, o.epsilon, norm);
          });
        }
        const wrong = torch.noGrad(() => model.forward(adv).argmax(1).ne(y));
        // A point already fooled keeps its earlier example; the others take this restart's.
        best = torch.where(fooled.logicalNot().view([-1, 1, 1, 1]), adv, best);
        fooled = fooled.logicalOr(wrong);
      }
      return best.detach();
    }),
  );
}
