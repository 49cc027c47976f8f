// Adam and AdamW with PyTorch's formulas (bias correction, amsgrad):
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2;  vMax = max(vMax, v) with amsgrad
//   param -= lr / (1 - beta1^t) * m / (sqrt(v or vMax) / sqrt(1 - beta2^t) + eps)
// One fused native call (adamStep_) updates a whole parameter group.
// They differ only in weight decay: Adam adds weightDecay * param to the
// gradient, AdamW first shrinks the weights by (1 - lr * weightDecay).
import type { Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { native, type Handle } from '../engine/native.js';
import { Optimizer, type ParamsOrGroups, type ParamUpdate } from './optimizer.js';

export type AdamOptions = {
  lr: number;
  betas: number[];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
};

abstract class AdamFamily extends Optimizer<AdamOptions> {
  protected constructor(type: string, params: ParamsOrGroups<AdamOptions>, options: Partial<AdamOptions>, defaultWeightDecay: number) {
    super(type, params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: defaultWeightDecay, amsgrad: false }, options);
  }

  /** Whether weight decay shrinks the weights directly (AdamW) instead of joining the gradient (Adam). */
  protected abstract readonly decoupledWeightDecay: boolean;

  protected validate(o: AdamOptions): void {
    for (const k of ['lr', 'eps', 'weightDecay'] as const) {
      if (!(o[k] >= 0 && Number.isFinite(o[k]))) throw new Error(`${this.type}: ${k} must be a finite number >= 0, got ${o[k]}`);
    }
    const [b1, b2] = o.betas;
    if (o.betas.length !== 2 || !(b1! >= 0 && b1! < 1 && b2! >= 0 && b2! < 1))
      throw new Error(`${this.type}: betas must be two numbers in [0, 1), got [${o.betas}]`);
  }

  protected stateNames(o: AdamOptions): string[] {
    return o.amsgrad ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }

  protected updateGroup(updates: ParamUpdate[], o: AdamOptions): void {
    const [beta1, beta2] = o.betas as [number, number];
    const stateOf = (u: ParamUpdate, name: string): Tensor => u.state.get(name) ?? this.setState(u.state, name, torch.zerosLike(u.param));
    const handles = (name: string): Handle[] => updates.map((u) => stateOf(u, name).handle);
    native.adamStep_(
      updates.map((u) => u.param.handle),
      updates.map((u) => u.grad.handle),
      handles('exp_avg'),
      handles('exp_avg_sq'),
      o.amsgrad ? handles('max_exp_avg_sq') : [],
      updates.map((u) => u.step),
      o.lr,
      beta1,
      beta2,
      o.eps,
      o.weightDecay,
      this.decoupledWeightDecay,
      o.amsgrad,
    );
  }
}

export class Adam extends AdamFamily {
  protected readonly decoupledWeightDecay = false;
  constructor(params: ParamsOrGroups<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, options, 0);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default weightDecay 1e-2. */
export class AdamW extends AdamFamily {
  protected readonly decoupledWeightDecay = true;
  constructor(params: ParamsOrGroups<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, options, 1e-2);
  }
}
