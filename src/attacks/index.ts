// Attacks and the pieces they share (the later suite builds on these).
export { pgd, type PgdOptions, type RandomStart } from './pgd.js';
export { robustAccuracy, pgd20, type AttackFn } from './robustAccuracy.js';
export { projectedAscent, type StepBudget } from './ascent.js';
export {
  inEvalMode, checkBatch, checkBudget, project, stepDirection, perSampleL2, uniformStart, gaussianStart, withSeed, inputGradient, type Norm,
} from './common.js';
export { marginLoss, crossEntropySum, attackObjective, klToReference, dlrLoss, targetedDlrLoss, type AttackLoss } from './losses.js';
export { apgd, apgdTargeted, apgdRun, apgdStart, apgdCheckpoints, type ApgdOptions, type ApgdTargetedOptions, type ApgdBudget } from './apgd.js';
export { StillRobust, rankedClasses, type RunOutcome, type WarningSink } from './stillRobust.js';
