// Optimisers and learning-rate schedules.
export {
  Optimizer,
  type OptimizerState,
  type ParamGroup,
  type ParamGroupSpec,
  type ParamUpdate,
  type ParamsOrGroups,
  type Hyper,
} from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export {
  epochAt,
  piecewiseConstant,
  piecewiseByEpoch,
  multiStep,
  cosineAnnealing,
  withLinearWarmup,
  setLearningRate,
  type EpochSchedule,
} from './schedules.js';
