// d2r: adversarial robustness for TypeScript on libtorch.
export * as torch from './engine/torch.js';
export { Tensor } from './engine/tensor.js';
export type { DType } from './engine/dtype.js';
export * as data from './data/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export * as optim from './optim/index.js';
export * as distributed from './engine/distributed/index.js';
export * as io from './io/index.js';
export * as attacks from './attacks/index.js';
export * as methods from './methods/index.js';
