// Data-parallel training on PyTorch's c10d: the process group and its
// collectives, and DDP's gradient averaging on tensor lists (docs/distributed.md).
export {
  initProcessGroup,
  isInitialized,
  rank,
  worldSize,
  localRank,
  allReduce,
  differentiableAllReduce,
  broadcast,
  allGather,
  barrier,
  destroyProcessGroup,
  availableBackends,
  DEFAULT_TIMEOUT_SECONDS,
  type Backend,
  type ReduceOp,
  type InitOptions,
} from './group.js';
export { GradientAverager, DEFAULT_BUCKET_BYTES, bucketsOf } from './gradients.js';
export { DistributedError, DistributedOptionError } from './errors.js';
