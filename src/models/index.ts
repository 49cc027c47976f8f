// The bundled image classifiers, with PyTorch's state-dict layouts.
export { ImageClassifier, type ClassifierOptions } from './imageClassifier.js';
export { smallCnn, SmallCnn, type SmallCnnOptions } from './smallCnn.js';
export { preActResNet18, PreActResNet18, PreActBlock } from './preActResNet18.js';
export { resNet18, ResNet18, BasicBlock } from './resNet18.js';
export { wideResNet, WideResNet, WideBasicBlock, NetworkBlock, type WideResNetOptions } from './wideResNet.js';
export { createModel, MODEL_NAMES, type ModelName, type ModelSpec } from './registry.js';
export type { Models } from './targetAndGuidance.js';
export { loadTorchScript, saveTorchScript, type LoadTorchScriptOptions } from './torchScript.js';
