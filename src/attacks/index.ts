// Attacks (FGSM/PGD, APGD, FAB-T, Square), AutoAttack, and the pieces they share.
export { pgd, type PgdOptions, type RandomStart } from './pgd.js';
export { robustAccuracy, pgd20, type AttackFn } from './robustAccuracy.js';
export { projectedAscent, type StepBudget } from './ascent.js';
export {
  inEvalMode,
  project,
  stepDirection,
  perSampleL2,
  perSampleNorm,
  unitPerSample,
  choosePerSample,
  classCount,
  randomStart,
  gaussianStart,
  withSeed,
  inputGradient,
  type Norm,
} from './common.js';
export {
  defineAttack,
  attackFrame,
  checkBatch,
  checkBudget,
  checkThreatModel,
  checkSeed,
  positiveInteger,
  nonNegativeInteger,
  numberIn,
  oneOf,
  type Attack,
  type AttackOptions,
  type StepSink,
} from './attack.js';
export { marginLoss, crossEntropySum, attackObjective, klToReference, dlrLoss, targetedDlrLoss, type AttackLoss } from './losses.js';
export {
  apgd,
  apgdTargeted,
  apgdRun,
  apgdCheckpoints,
  type ApgdOptions,
  type ApgdTargetedOptions,
  type ApgdBudget,
  type ApgdRunOptions,
} from './apgd.js';
export {
  attackStillRobust,
  rankedClasses,
  targetAndRestart,
  type RunOutcome,
  type StillRobustRun,
  type WarningSink,
} from './stillRobust.js';
export {
  worstCase,
  individually,
  fraction,
  type IndividualOutcome,
  type NamedAttack,
  type AttackBatch,
  type AttackOutcome,
  type WorstCaseOptions,
  type WorstCaseResult,
} from './worstCase.js';
export {
  autoAttack,
  autoAttackSuite,
  autoAttackIndividual,
  versionOf,
  AUTOATTACK_VERSION_NAMES,
  type AutoAttackIndividualResult,
  AUTOATTACK_COMPONENTS,
  AUTOATTACK_VERSIONS,
  STANDARD_AUTOATTACK,
  type AutoAttackOptions,
  type AutoAttackResult,
  type AutoAttackComponent,
  type AutoAttackSuiteOptions,
  type AutoAttackVersion,
} from './autoAttack.js';
export { randomizedModelWarning, probabilityOutputWarning, classCountWarnings, squareWarning } from './checks.js';
export { fab, fabTargeted, type FabOptions, type FabTargetedOptions } from './fab.js';
export { l1Projection, sparseStep } from './l1.js';
export { square, type SquareOptions } from './square.js';
export { chooseTargets, TARGET_CHOICES, type TargetChoice } from './targets.js';
