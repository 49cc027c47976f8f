// Runs the same optimisation problem here and in torch.optim: fixed parameters
// and a fixed gradient per step, where the last parameter never gets a gradient
// (an optimiser must leave it alone).
import assert from 'node:assert/strict';
import { torch, optim } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose, type OracleTensor } from '../helpers/oracle.js';

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

/**
 * torch.optim's result: `optimizer` is a Python expression over the list
 * `params`; `afterStep` Python run after step k (variable `k`). Returns the
 * final parameters as p0, p1, ... and the state as '<index>.<name>' (steps as numbers).
 */
export function runTorch(problem: Problem, optimizer: string, afterStep = 'pass'): Record<string, OracleTensor & number> {
  const inputs: Record<string, Tensor | null> = {};
  problem.params.forEach((p, i) => (inputs[`p${i}`] = p));
  problem.grads.forEach((gs, k) => gs.forEach((g, i) => (inputs[`g${k}_${i}`] = g)));
  return pytorch(
    `
params = [inp['p%d' % i].clone().requires_grad_() for i in range(${problem.params.length})]
opt = ${optimizer}
for k in range(${problem.grads.length}):
    opt.zero_grad(set_to_none=True)
    for i, p in enumerate(params):
        p.grad = None if inp['g%d_%d' % (k, i)] is None else inp['g%d_%d' % (k, i)].clone()
    opt.step()
    ${afterStep}
for i, p in enumerate(params):
    out['p%d' % i] = p
for i, st in opt.state_dict()['state'].items():
    for name, v in st.items():
        if v is None:  # SGD without momentum keeps an empty momentum_buffer slot
            continue
        out['%d.%s' % (i, name)] = float(v) if name == 'step' else v
`,
    inputs,
  );
}

/** Asserts our parameters and optimiser state equal torch.optim's. */
export function assertMatchesTorch(opt: optim.Optimizer, problem: Problem, ref: Record<string, OracleTensor & number>, what: string, tolerance = { atol: 1e-6, rtol: 1e-5 }): void {
  problem.params.forEach((p, i) => assertClose(p, ref[`p${i}`]!, { ...tolerance, what: `${what} param ${i}` }));
  const { meta, tensors } = opt.stateDict();
  const torchTensors = Object.keys(ref).filter((k) => /^\d+\./.test(k) && !k.endsWith('.step'));
  assert.deepEqual(Object.keys(tensors).sort(), torchTensors.sort(), `${what}: state tensor names`);
  for (const k of torchTensors) assertClose(tensors[k]!, ref[k]!, { ...tolerance, what: `${what} state ${k}` });
  for (const [i, step] of Object.entries(meta.steps)) {
    if (`${i}.step` in ref) assert.equal(step, ref[`${i}.step`], `${what}: step count of param ${i}`);
  }
}
