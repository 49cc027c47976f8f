// Robust accuracy of a model under one attack, batch by batch: a point counts
// when the model classifies both it and its adversarial example correctly
// (the per-point worst case of clean and attacked).
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/index.js';
import { inEvalMode, type Norm } from './common.js';
import { checkBatch } from './attack.js';
import { pgd } from './pgd.js';

export type AttackFn = (model: Module, x: Tensor, y: Tensor) => Tensor;

/** The paper family's PGD-20: CE, uniform start, step eps/4, 20 steps. */
export function pgd20(epsilon: number, norm: Norm = 'linf', seed?: number): AttackFn {
  return (model, x, y) => pgd(model, x, y, { epsilon, stepSize: epsilon / 4, steps: 20, norm, loss: 'ce', randomStart: 'uniform', seed });
}

/** The fraction of points of (x, y) that stay correct under `attack`; the model runs in eval mode and gets its mode back. */
export function robustAccuracy(model: Module, x: Tensor, y: Tensor, attack: AttackFn, batchSize = 256): number {
  checkBatch(x, y, 'robustAccuracy');
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`robustAccuracy: batchSize must be a positive integer, got ${batchSize}`);
  const n = x.shape[0]!;
  if (n === 0) return 0;
  let robust = 0;
  inEvalMode([model], () => {
    for (let start = 0; start < n; start += batchSize) {
      torch.tidy(() => {
        const xb = x.narrow(0, start, Math.min(batchSize, n - start));
        const yb = y.narrow(0, start, xb.shape[0]!);
        const correct = (input: Tensor): Tensor => torch.noGrad(() => model.forward(input).argmax(1).eq(yb));
        const xAdv = attack(model, xb, yb);
        robust += correct(xb).logicalAnd(correct(xAdv)).sum().item();
      });
    }
  });
  return robust / n;
}
