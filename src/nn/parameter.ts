// A Parameter is a tensor a Module owns and trains. It holds its own native
// handle, untracked, so tidy() scopes never dispose a model's weights.
import { Tensor } from '../engine/tensor.js';
import { native } from '../engine/native.js';

export class Parameter extends Tensor {
  /** Wraps the data of `value` (shared storage, cut from any graph) as a leaf that requires grad. */
  constructor(value: Tensor, requiresGrad = true) {
    super(native.detach(value.handle), false);
    this.requiresGrad = requiresGrad;
  }

  override toString(): string {
    return `Parameter(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

/** An untracked handle on the data of `value`, for module buffers (running statistics, ...). */
export function bufferFrom(value: Tensor): Tensor {
  return new Tensor(native.detach(value.handle), false);
}
