// Attacks and the pieces they share.
export { pgd, type PgdOptions } from './pgd.js';
export { inEvalMode, project, stepDirection, randomStart, checkBatch, type Norm } from './common.js';
export { marginLoss, attackLoss, klFromReference, type AttackLoss } from './losses.js';
