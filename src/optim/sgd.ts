// SGD with momentum, dampening, Nesterov and weight decay: PyTorch's update rule.
//   g = grad + weightDecay * param
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g
//   d = nesterov ? g + momentum * buf : buf          (d = g without momentum)
//   param -= lr * d
// One fused native call (sgdStep_) updates a whole parameter group.
import type { Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { native } from '../engine/native.js';
import { Optimizer, type ParamsOrGroups, type ParamUpdate } from './optimizer.js';

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

  protected updateGroup(updates: ParamUpdate[], o: SgdOptions): void {
    const call = (group: ParamUpdate[], buffers: Tensor[], firstStep: boolean): void =>
      native.sgdStep_(
        group.map((u) => u.param.handle),
        group.map((u) => u.grad.handle),
        buffers.map((b) => b.handle),
        o.lr,
        o.momentum,
        o.dampening,
        o.weightDecay,
        o.nesterov,
        firstStep,
      );
    if (o.momentum === 0) return call(updates, [], false);
    // A parameter's first step copies its direction into a fresh buffer; later ones blend it in.
    const fresh = updates.filter((u) => !u.state.has('momentum_buffer'));
    const seasoned = updates.filter((u) => u.state.has('momentum_buffer'));
    if (fresh.length > 0)
      call(
        fresh,
        fresh.map((u) => this.setState(u.state, 'momentum_buffer', torch.emptyLike(u.param))),
        true,
      );
    if (seasoned.length > 0)
      call(
        seasoned,
        seasoned.map((u) => u.state.get('momentum_buffer')!),
        false,
      );
  }
}
