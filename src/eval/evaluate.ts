// Accuracy of a model on a set of points: clean, then under a list of named
// attacks by the worst-case protocol (src/attacks/worstCase.ts).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import type { Dataset } from '../data/index.js';
import type { Models } from '../models/targetAndGuidance.js';
import { classCount } from '../attacks/common.js';
import { fraction, individually, runToEnd, worstCaseSteps } from '../attacks/worstCase.js';
import type { IndividualOutcome, NamedAttack, WorstCaseOptions, WorstCaseResult } from '../attacks/worstCase.js';
import type { Norm } from '../attacks/common.js';
import type { AutoAttackVersionName } from '../attacks/versions.js';
import { planAttacks, type AttackPlan, type EvalProtocol } from './attackNames.js';

export type { AttackOutcome } from '../attacks/worstCase.js';

export interface EvaluationOptions extends Omit<WorstCaseOptions, 'threatModel' | 'checks' | 'randomised'> {
  epsilon: number;
  norm: Norm;
  device: string;
  /** How FGSM, PGD and CW run (default 'ours'; src/eval/attackNames.ts). */
  protocol?: EvalProtocol;
  /** The AutoAttack version 'autoattack' stands for (default standard). */
  version?: AutoAttackVersionName;
  /** Chosen targets, one per point: PGD, FGSM, APGD-T and FAB-T attack them. */
  target?: Tensor;
  /** Attacks run before the named ones (a saved set's transfer attack). */
  extraAttacks?: NamedAttack[];
}

/** The named attacks planned for the model, their class-count warnings told. */
function plan(model: Module, images: Tensor, attackNames: string[], o: EvaluationOptions): AttackPlan {
  const planned =
    attackNames.length === 0
      ? { attacks: [], warnings: [], autoAttack: false }
      : planAttacks(attackNames, {
          epsilon: o.epsilon,
          norm: o.norm,
          classes: classCount(model, images),
          protocol: o.protocol,
          version: o.version,
          target: o.target,
        });
  for (const w of planned.warnings) o.onWarning?.(w);
  return { ...planned, attacks: [...(o.extraAttacks ?? []), ...planned.attacks] };
}

/** How the protocol runs the plan: the reference's checks when an AutoAttack component runs ('rand' expects a randomised model). */
function protocol(planned: AttackPlan, o: EvaluationOptions): WorstCaseOptions {
  const { version: _v, target: _t, extraAttacks: _e, protocol: _p, ...rest } = o;
  return { ...rest, threatModel: { norm: o.norm, epsilon: o.epsilon }, checks: planned.autoAttack, randomised: o.version === 'rand' };
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
  const planned = plan(model, images, attackNames, o);
  const result = yield* worstCaseSteps(model, images, labels, planned.attacks, protocol(planned, o));
  return { ...result, warnings: [...planned.warnings, ...result.warnings] };
}

/**
 * Each named attack run alone on all the points the model gets right (the
 * reference's individual mode; 'autoattack' stands for its attacks).
 */
export function evaluateIndividually(
  model: Module,
  images: Tensor,
  labels: Tensor,
  attackNames: string[],
  o: EvaluationOptions,
): { attacks: IndividualOutcome[]; warnings: string[] } {
  const planned = plan(model, images, attackNames, o);
  const result = individually(model, images, labels, planned.attacks, protocol(planned, o));
  return { attacks: result.attacks, warnings: [...planned.warnings, ...result.warnings] };
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
