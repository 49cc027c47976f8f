import { type Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

/** Flattens dims startDim..endDim into one (by default everything but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
