// Projected gradient descent (Madry et al. 2018): L-inf or L2; CE, margin or
// KL-to-clean loss; uniform / Gaussian / no random start; early stop per point;
// restarts keeping the per-point worst case.
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { checkBatch, checkBudget, choosePerSample, gaussianStart, inEvalMode, uniformStart, withSeed } from './common.js';
import { projectedAscent, type StepBudget } from './ascent.js';
import { attackObjective, klToReference, type AttackLoss } from './losses.js';

export type RandomStart = 'uniform' | 'gaussian' | 'none';

export interface PgdOptions extends StepBudget {
  /** ce, margin (CW), or kl: KL from the model's own clean prediction (TRADES' inner loss). */
  loss?: AttackLoss | 'kl';
  /** A point stops moving at the first iterate that fools the model. */
  earlyStop?: boolean;
  /** uniform: uniform in the threat model; gaussian: x + 0.001 N(0, I); none: x itself. */
  randomStart?: RandomStart;
  restarts?: number;
  /** Seeds the random starts; the caller's random stream is left as it was. */
  seed?: number;
  /** The start of the first restart instead of a random one (tests, warm starts). */
  init?: Tensor;
}

function startPoint(x: Tensor, kind: RandomStart, o: PgdOptions): Tensor {
  if (kind === 'uniform') return uniformStart(x, o.epsilon, o.norm ?? 'linf');
  if (kind === 'gaussian') return gaussianStart(x);
  return x.detach();
}

/**
 * Ascends the loss from the chosen start. With restarts, a point keeps the
 * first restart that fools the model (else the last one). Returns a detached
 * batch; the model runs in eval mode and gets its previous mode back.
 */
export function pgd(model: Module, x: Tensor, y: Tensor, o: PgdOptions): Tensor {
  checkBatch(x, y, 'pgd');
  checkBudget(o, 'pgd');
  const restarts = o.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new Error(`pgd: restarts must be a positive integer, got ${restarts}`);
  const loss = o.loss ?? 'ce';
  if (loss !== 'ce' && loss !== 'margin' && loss !== 'kl') throw new Error(`pgd: loss must be 'ce', 'margin' or 'kl', got '${String(loss)}'`);
  return inEvalMode([model], () =>
    withSeed(o.seed, () =>
      torch.tidy(() => {
        const clean = loss === 'kl' ? torch.noGrad(() => model.forward(x).softmax(1)) : null;
        const objective = (input: Tensor): Tensor => (clean ? klToReference(clean, model.forward(input)) : attackObjective(loss as AttackLoss, model.forward(input), y));
        const stopWhere = o.earlyStop ? (input: Tensor): Tensor => torch.noGrad(() => model.forward(input).argmax(1).ne(y)) : undefined;
        let best = x.detach();
        let fooled = torch.zeros([x.shape[0]!], { dtype: 'bool', device: x.device });
        for (let r = 0; r < restarts; r++) {
          const start = r === 0 && o.init ? o.init : startPoint(x, o.randomStart ?? 'uniform', o);
          const adv = projectedAscent(x, start, objective, o, stopWhere);
          if (restarts === 1) return adv;
          const wrong = torch.noGrad(() => model.forward(adv).argmax(1).ne(y));
          best = choosePerSample(fooled.logicalNot(), adv, best);
          fooled = fooled.logicalOr(wrong);
        }
        return best;
      }),
    ),
  );
}
