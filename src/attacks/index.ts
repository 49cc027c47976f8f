// Attacks and the pieces they share (the later suite builds on these).
export { pgd, type PgdOptions, type RandomStart } from './pgd.js';
export { robustAccuracy, pgd20, type AttackFn } from './robustAccuracy.js';
export { projectedAscent, type StepBudget } from './ascent.js';
export {
  inEvalMode, checkBatch, checkBudget, project, stepDirection, perSampleL2, uniformStart, gaussianStart, withSeed, inputGradient, type Norm,
} from './common.js';
export { marginLoss, crossEntropySum, attackObjective, klToReference, type AttackLoss } from './losses.js';
