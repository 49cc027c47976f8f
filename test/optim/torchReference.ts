// Runs the same optimisation problem here and in torch.optim: fixed parameters
// and a fixed gradient per step, where the last parameter never gets a gradient
// (an optimiser must leave it alone).
import assert from 'node:assert/strict';
import { torch, type optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose, type OracleInput, type OracleTensor } from '../helpers/oracle.js';

export interface Problem {
  params: Tensor[];
  /** grads[step][param]; null: no gradient that step. */
  grads: (Tensor | null)[][];
}

export function makeProblem(steps: number, dtype: 'float32' | 'float64' = 'float32', seed = 1): Problem {
  torch.manualSeed(seed);
  const shapes = [[3, 4], [4], [2]];
  const params = shapes.map((s) => torch.randn(s, { dtype }).requiresGrad_());
  const grads = Array.from({ length: steps }, () => shapes.map((s, i) => (i === shapes.length - 1 ? null : torch.randn(s, { dtype }))));
  return { params, grads };
}

/** Runs steps first..last-1 of the problem with our optimiser. */
export function runOurs(opt: optim.Optimizer, problem: Problem, first = 0, last = problem.grads.length): void {
  for (let k = first; k < last; k++) {
    opt.zeroGrad();
    problem.params.forEach((p, i) => (p.grad = problem.grads[k]![i]!));
    opt.step();
  }
}

/** A parameter group for torch.optim: the indices of its parameters and its options, named as in torch.optim. */
export type TorchGroup = { params: number[] } & Record<string, OracleInput>;

/** A torch.optim optimiser: its class, its defaults, and its groups (default: all parameters in one group). */
export interface TorchOptimizer {
  type: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, OracleInput>;
  groups?: TorchGroup[];
}

/**
 * torch.optim's result (test/oracles/optim.py), optionally adding `addGroup.group`
 * after step `addGroup.afterStep`. Returns the final parameters as p0, p1, ...
 * and the state as '<index>.<name>' (steps as numbers).
 */
export function runTorch(
  problem: Problem,
  optimizer: TorchOptimizer,
  addGroup?: { afterStep: number; group: TorchGroup },
): Record<string, OracleTensor & number> {
  return pytorch('optim.py', 'optimizer_run', {
    params: problem.params,
    grads: problem.grads,
    optimizer: { ...optimizer },
    add_group: addGroup ? { after_step: addGroup.afterStep, group: addGroup.group } : null,
  });
}

/** Asserts our parameters and optimiser state equal torch.optim's. */
export function assertMatchesTorch(
  opt: optim.Optimizer,
  problem: Problem,
  ref: Record<string, OracleTensor & number>,
  what: string,
  tolerance = { atol: 1e-6, rtol: 1e-5 },
): void {
  problem.params.forEach((p, i) => assertClose(p, ref[`p${i}`]!, { ...tolerance, what: `${what} param ${i}` }));
  const { meta, tensors } = opt.stateDict();
  const torchTensors = Object.keys(ref).filter((k) => /^\d+\./.test(k) && !k.endsWith('.step'));
  assert.deepEqual(Object.keys(tensors).sort(), torchTensors.sort(), `${what}: state tensor names`);
  for (const k of torchTensors) assertClose(tensors[k]!, ref[k]!, { ...tolerance, what: `${what} state ${k}` });
  for (const [i, step] of Object.entries(meta.steps)) {
    if (`${i}.step` in ref) assert.equal(step, ref[`${i}.step`], `${what}: step count of param ${i}`);
  }
}
