// A Parameter is a tensor a Module owns and trains. It holds its own native
// handle, untracked, so tidy() scopes never dispose a model's weights.
import { Tensor } from '../engine/tensor.js';
import { native } from '../engine/native.js';

export class Parameter extends Tensor {
  /**
   * Wraps the data of `value` (shared storage, cut from any graph) as a leaf that
   * requires grad; with `sameTensor`, wraps `value`'s tensor itself (see sharing()).
   */
  constructor(value: Tensor, requiresGrad = true, sameTensor = false) {
    super(sameTensor ? native.alias(value.handle) : native.detach(value.handle), false);
    this.requiresGrad = requiresGrad;
  }

  /**
   * A Parameter on the very tensor of `owned` (same autograd identity, so its
   * gradient is the one the owner's forward produces), for modules whose
   * tensors live in native code (TorchScript). `owned` must be a leaf.
   */
  static sharing(owned: Tensor): Parameter {
    return new Parameter(owned, owned.requiresGrad, true);
  }

  override toString(): string {
    return `Parameter(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

/** An untracked handle on the data of `value`, for module buffers (running statistics, ...). */
export function bufferFrom(value: Tensor): Tensor {
  return new Tensor(native.detach(value.handle), false);
}
