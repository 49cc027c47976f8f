// Building pieces shared by the ResNet-style models.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { type Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d } from '../nn/conv2d.js';

/** 3x3 convolution with padding 1 and no bias, the workhorse of every ResNet here. */
export function conv3x3(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
}

/** 1x1 projection with no bias, for shortcuts that change shape. */
export function conv1x1(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

export type BlockFactory = (inPlanes: number, outPlanes: number, stride: number) => Module;

/** `count` blocks as a Sequential ("0", "1", ...): the first maps inPlanes -> outPlanes with `stride`, the rest keep the shape. */
export function stage(block: BlockFactory, count: number, inPlanes: number, outPlanes: number, stride: number): Sequential {
  return new Sequential(
    ...Array.from({ length: count }, (_, i) => (i === 0 ? block(inPlanes, outPlanes, stride) : block(outPlanes, outPlanes, 1))),
  );
}

/**
 * The reference models end with F.avg_pool2d(out, k) where k is the final map
 * size for 32x32 inputs; other input sizes average the whole map instead, so
 * the classifier always sees one vector per image. Returns [N, C].
 */
export function globalAveragePool(x: Tensor, referenceKernel: number): Tensor {
  const [h, w] = [x.size(2), x.size(3)];
  const pooled = h === referenceKernel && w === referenceKernel ? torch.avgPool2d(x, referenceKernel) : torch.adaptiveAvgPool2d(x, 1);
  return pooled.flatten(1);
}
