// Shared fixtures of the attack and method tests: a tiny conv net (conv, BN,
// ReLU, linear) built in both engines from the same weights (the PyTorch side is
// test/oracles/fixture.py, which reads them from `inputs`), a tiny batch, and
// the live-handle count of the memory tests.
import { torch, nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { Module } from '../../src/nn/index.js';
import { collectGarbage } from '../helpers/gc.js';

export const SIDE = 8;
export const CLASSES = 10;

export function tinyNet(): Module {
  return new nn.Sequential({
    conv: new nn.Conv2d(1, 4, 3),
    bn: new nn.BatchNorm2d(4),
    relu: new nn.ReLU(),
    flat: new nn.Flatten(),
    fc: new nn.Linear(4 * (SIDE - 2) * (SIDE - 2), CLASSES),
  });
}

/**
 * The live native tensor handles once garbage is collected: a start value for
 * zero-growth tests. Read the end value with torch.memory() itself, without
 * collecting, so a handle left to the garbage collector counts as a leak.
 */
export function settledTensorCount(): number {
  collectGarbage();
  return torch.memory().numTensors;
}

/** Wraps a model, counts its forward calls and throws on call `failOn` (0: never), to check modes come back on error. */
export class Probe extends Module {
  calls = 0;
  constructor(
    readonly inner: Module,
    readonly failOn = 0,
  ) {
    super();
    this.registerModule('inner', inner);
  }
  forward(x: Tensor): Tensor {
    if (++this.calls === this.failOn) throw new Error('forward failed');
    return this.inner.forward(x);
  }
}

export interface Fixture {
  target: Module;
  guidance: Module;
  x: Tensor;
  y: Tensor;
  /** Oracle inputs: x, y and both state dicts under the prefixes 'T.' and 'G.'. */
  inputs: Record<string, Tensor>;
}

/** Two tiny nets and a batch of 6 images in [0, 1] (with exact 0s and 1s, to exercise the box). */
export function fixture(seed = 7): Fixture {
  torch.manualSeed(seed);
  const target = tinyNet();
  const guidance = tinyNet();
  const x = torch.rand([6, 1, SIDE, SIDE]).mul(1.4).sub(0.2).clamp(0, 1);
  const y = torch.tensor(new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n]));
  const inputs: Record<string, Tensor> = { x, y };
  for (const [prefix, m] of [
    ['T.', target],
    ['G.', guidance],
  ] as const) {
    for (const [k, v] of Object.entries(m.stateDict())) inputs[prefix + k] = v;
  }
  return { target, guidance, x, y, inputs };
}

/** Parameter gradients of a model, keyed like the Python side's output ('T.conv.weight', ...). */
export function parameterGradients(prefix: string, m: Module): [string, Tensor | null][] {
  return m.namedParameters().map(([name, p]) => [prefix + name, p.grad]);
}
