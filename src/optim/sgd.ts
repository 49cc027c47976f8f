// SGD with momentum, dampening, Nesterov and weight decay: PyTorch's update rule.
import type { Tensor } from '../engine/tensor.js';
import { Optimizer, type Hyper } from './optimizer.js';

export interface SgdOptions extends Hyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdOptions> {
  constructor(params: Tensor[] | { params: Tensor[]; [k: string]: unknown }[], options: Partial<SgdOptions> & { lr: number }) {
    const o: SgdOptions = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options };
    if (!(o.lr >= 0)) throw new Error(`SGD: lr must be >= 0, got ${o.lr}`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
    super(params, o);
  }

  get type(): string {
    return 'SGD';
  }

  protected update(param: Tensor, grad: Tensor, o: SgdOptions, state: Map<string, Tensor>): void {
    let direction = o.weightDecay !== 0 ? grad.add(param.mul(o.weightDecay)) : grad;
    if (o.momentum !== 0) {
      let buffer = state.get('momentum_buffer');
      if (buffer === undefined) buffer = this.setState(state, 'momentum_buffer', direction.clone());
      else buffer.mul_(o.momentum).add_(direction, 1 - o.dampening);
      direction = o.nesterov ? direction.add(buffer.mul(o.momentum)) : buffer;
    }
    param.add_(direction, -o.lr);
  }
}
