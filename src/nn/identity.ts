import { type Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

/** Returns its input unchanged (a placeholder where a layer is optional). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
