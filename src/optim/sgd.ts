// SGD with momentum, dampening, Nesterov and weight decay: PyTorch's update rule.
//   g = grad + weightDecay * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   d = nesterov ? g + momentum * buf : buf          (d = g without momentum)
//   param -= lr * d
import type { Tensor } from '../engine/tensor.js';
import { Optimizer, type ParamsOrGroups } from './optimizer.js';

export type SgdOptions = {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
};

export class SGD extends Optimizer<SgdOptions> {
  constructor(params: ParamsOrGroups<SgdOptions>, options: Partial<SgdOptions> & { lr: number }) {
    super('SGD', params, { lr: Number.NaN, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, options);
  }

  protected validate(o: SgdOptions): void {
    for (const k of ['lr', 'momentum', 'dampening', 'weightDecay'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new Error(`SGD: ${k} must be a finite number >= 0, got ${o[k]}`);
    }
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
  }

  protected stateNames(o: SgdOptions): string[] {
    return o.momentum !== 0 ? ['momentum_buffer'] : [];
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
