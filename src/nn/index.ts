// PyTorch-style neural-network modules on the engine's functional ops.
export { Module, type StateDict, type LoadResult } from './module.js';
export { Parameter } from './parameter.js';
export * as init from './init.js';
export { Linear } from './linear.js';
export { Conv2d, type Conv2dOptions, type Pair } from './conv2d.js';
export { BatchNorm2d, convertSyncBatchNorm, type BatchNorm2dOptions } from './batchnorm2d.js';
export { ReLU } from './relu.js';
export { Identity } from './identity.js';
export { Dropout } from './dropout.js';
export { Flatten } from './flatten.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './pooling.js';
export { Sequential } from './sequential.js';
export { Normalize, type NormalizeOptions } from './normalize.js';
export { ScriptModule } from './scriptModule.js';
