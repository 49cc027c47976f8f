// Accuracy of a model on a set of points: clean, then under a list of named
// attacks by the worst-case protocol (src/attacks/worstCase.ts).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import type { Dataset } from '../data/index.js';
import type { Models } from '../methods/method.js';
import { classCount } from '../attacks/common.js';
import { fraction, runToEnd, worstCaseSteps, type WorstCaseOptions, type WorstCaseResult } from '../attacks/worstCase.js';
import { planAttacks, type EvalProtocol } from './attackNames.js';

export type { AttackOutcome } from '../attacks/worstCase.js';

export interface EvaluationOptions extends Omit<WorstCaseOptions, 'threatModel' | 'checks'> {
  epsilon: number;
  norm: 'linf' | 'l2';
  device: string;
  /** How FGSM, PGD and CW run (default 'ours'; src/eval/attackNames.ts). */
  protocol?: EvalProtocol;
}

export { fraction };

/**
 * Evaluates model on images/labels: a clean pass, then each named attack
 * ('fgsm', 'pgd20', 'cw20', 'autoattack', 'square', ...) in order, with the
 * reference's checks when an AutoAttack component runs. The model is in eval
 * mode throughout and gets its mode back; the global random stream is left as
 * it was, so evaluating never changes training.
 */
export function evaluatePoints(
  model: Module,
  images: Tensor,
  labels: Tensor,
  attackNames: string[],
  o: EvaluationOptions,
): WorstCaseResult {
  return runToEnd(evaluationSteps(model, images, labels, attackNames, o));
}

/** evaluatePoints one batch at a time (see worstCaseSteps): for a caller that lets signals in between. */
export function* evaluationSteps(
  model: Module,
  images: Tensor,
  labels: Tensor,
  attackNames: string[],
  o: EvaluationOptions,
): Generator<void, WorstCaseResult, void> {
  const plan =
    attackNames.length === 0
      ? { attacks: [], warnings: [], autoAttack: false }
      : planAttacks(attackNames, { epsilon: o.epsilon, norm: o.norm, classes: classCount(model, images), protocol: o.protocol });
  for (const w of plan.warnings) o.onWarning?.(w);
  const result = yield* worstCaseSteps(model, images, labels, plan.attacks, {
    ...o,
    threatModel: { norm: o.norm, epsilon: o.epsilon },
    checks: plan.autoAttack,
  });
  return { ...result, warnings: [...plan.warnings, ...result.warnings] };
}

export interface ModelAccuracy {
  clean: number;
  robust: number | null;
}

/** The per-epoch check of the trainer: clean and PGD-`steps` accuracy of the target and guidance models. */
export function evaluateModel(
  models: Models,
  data: Dataset,
  o: EvaluationOptions & { steps: number },
): { target: ModelAccuracy; guidance?: ModelAccuracy; points: number } {
  const attacks = o.steps > 0 ? [`pgd${o.steps}`] : [];
  const summarise = (m: Module): ModelAccuracy => {
    const r = evaluatePoints(m, data.images, data.labels, attacks, o);
    return { clean: fraction(r.cleanCorrect), robust: attacks.length > 0 ? fraction(r.robust) : null };
  };
  return {
    target: summarise(models.target),
    guidance: models.guidance ? summarise(models.guidance) : undefined,
    points: data.images.shape[0]!,
  };
}
