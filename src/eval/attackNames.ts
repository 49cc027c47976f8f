// The attack names `d2r eval --attacks` understands, mapped to configured attacks.
import type { Tensor } from '../engine/torch.js';
import type { Module } from '../nn/index.js';
import { pgd } from '../attacks/pgd.js';

export interface NamedAttack {
  name: string;
  run(model: Module, x: Tensor, y: Tensor): Tensor;
}

export const ATTACK_NAMES_HELP = 'fgsm, pgdN (PGD on CE, N steps, step eps/4, uniform start; e.g. pgd20), cwN (PGD on the margin loss)';

export function attackByName(name: string, o: { epsilon: number; norm: 'linf' | 'l2' }): NamedAttack {
  const { epsilon, norm } = o;
  if (name === 'fgsm') {
    return { name, run: (m, x, y) => pgd(m, x, y, { epsilon, stepSize: epsilon, steps: 1, norm, randomStart: 'none' }) };
  }
  const iterative = /^(pgd|cw)(\d+)$/.exec(name);
  if (iterative) {
    const steps = Number(iterative[2]);
    const loss = iterative[1] === 'cw' ? 'margin' : 'ce';
    return { name, run: (m, x, y) => pgd(m, x, y, { epsilon, stepSize: epsilon / 4, steps, norm, loss, randomStart: 'uniform' }) };
  }
  throw new Error(`unknown attack '${name}'; known: ${ATTACK_NAMES_HELP}`);
}
