// In-place initialisers with PyTorch's nn.init semantics. Random draws go
// through torch.rand/randn, so torch.manualSeed makes them reproducible.
import { type Tensor } from '../engine/tensor.js';
import * as torch from '../engine/torch.js';

/** Runs fn without recording gradients and frees its temporaries. */
function overwrite(t: Tensor, value: () => Tensor): Tensor {
  torch.noGrad(() => torch.tidy(() => void t.copy_(value())));
  return t;
}

/** (fanIn, fanOut) of a Linear weight [out, in] or a conv weight [out, in/groups, ...kernel]. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error(`init: fan in/out needs a tensor of at least 2 dims, got shape [${t.shape}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

export type Nonlinearity = 'linear' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid';

/** PyTorch's calculate_gain. */
export function gain(nonlinearity: Nonlinearity, negativeSlope = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.sqrt(2);
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + negativeSlope * negativeSlope));
  }
}

export function uniform_(t: Tensor, low: number, high: number): Tensor {
  return overwrite(t, () =>
    torch
      .rand(t.shape, { dtype: t.dtype, device: t.device })
      .mul(high - low)
      .add(low),
  );
}

export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  return overwrite(t, () => torch.randn(t.shape, { dtype: t.dtype, device: t.device }).mul(std).add(mean));
}

export function constant_(t: Tensor, value: number): Tensor {
  torch.noGrad(() => t.fill_(value));
  return t;
}
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (0 for ReLU). */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t);
  return gain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

/** kaiming_uniform_: U(-b, b) with b = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound);
}

/** kaiming_normal_: N(0, gain / sqrt(fan)). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options));
}

/**
 * The default initialisation of PyTorch's Linear and Conv layers:
 * weight kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)),
 * and the bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function defaultLayerInit_(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const { fanIn } = fans(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform_(bias, -bound, bound);
  }
}
