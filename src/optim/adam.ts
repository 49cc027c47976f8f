// Adam and AdamW: PyTorch's formulas, bias correction and amsgrad included.
// They differ only in how weight decay enters: Adam adds it to the gradient,
// AdamW shrinks the weights directly.
import type { Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';
import { Optimizer, type Hyper } from './optimizer.js';

export interface AdamOptions extends Hyper {
  lr: number;
  betas: number[];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

type AdamParams = Tensor[] | { params: Tensor[]; [k: string]: unknown }[];

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected constructor(params: AdamParams, options: Partial<AdamOptions>, defaultWeightDecay: number) {
    const o: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: defaultWeightDecay, amsgrad: false, ...options };
    const [b1, b2] = o.betas;
    if (!(b1! >= 0 && b1! < 1 && b2! >= 0 && b2! < 1)) throw new Error(`Adam: betas must be in [0, 1), got ${o.betas}`);
    super(params, o);
  }

  protected abstract decoupledDecay(): boolean;

  protected update(param: Tensor, grad: Tensor, o: AdamOptions, state: Map<string, Tensor>, step: number): void {
    const [b1, b2] = o.betas as [number, number];
    if (o.weightDecay !== 0) {
      if (this.decoupledDecay()) param.mul_(1 - o.lr * o.weightDecay);
      else grad = grad.add(param.mul(o.weightDecay));
    }
    const expAvg = state.get('exp_avg') ?? this.setState(state, 'exp_avg', torch.zerosLike(param));
    const expAvgSq = state.get('exp_avg_sq') ?? this.setState(state, 'exp_avg_sq', torch.zerosLike(param));
    expAvg.lerp_(grad, 1 - b1);
    expAvgSq.mul_(b2).addcmul_(grad, grad, 1 - b2);
    const biasCorrection1 = 1 - b1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - b2 ** step);
    let second = expAvgSq;
    if (o.amsgrad) {
      const maxSq = state.get('max_exp_avg_sq') ?? this.setState(state, 'max_exp_avg_sq', torch.zerosLike(param));
      maxSq.maximum_(expAvgSq);
      second = maxSq;
    }
    const denom = second.sqrt().div(biasCorrection2Sqrt).add(o.eps);
    param.addcdiv_(expAvg, denom, -o.lr / biasCorrection1);
  }
}

export class Adam extends AdamBase {
  constructor(params: AdamParams, options: Partial<AdamOptions> = {}) {
    super(params, options, 0);
  }
  get type(): string {
    return 'Adam';
  }
  protected decoupledDecay(): boolean {
    return false;
  }
}

export class AdamW extends AdamBase {
  constructor(params: AdamParams, options: Partial<AdamOptions> = {}) {
    super(params, options, 1e-2);
  }
  get type(): string {
    return 'AdamW';
  }
  protected decoupledDecay(): boolean {
    return true;
  }
}
