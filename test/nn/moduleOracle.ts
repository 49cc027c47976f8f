// Checks a module against the same module built in PyTorch: identical
// state-dict keys, shapes, dtypes and order; after loading our weights there,
// the same eval output, train-mode output, parameter gradients of a loss, and
// running statistics after that train-mode step; and the input gradient.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Tensor, torch } from '../../src/index.js';
import { BatchNorm2d, type Module } from '../../src/nn/index.js';
import { pytorch, type OracleInput } from '../helpers/oracle.js';
import { readTensors, withTempDir, writeTensors } from './tensorFile.js';

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise, with atol
 * scaled by the largest expected magnitude (float32 sums over big layers).
 */
export function assertTensorClose(actual: Tensor, expected: Tensor | undefined, what: string, { rtol = 1e-4, atol = 1e-5 } = {}): void {
  assert.ok(expected !== undefined, `${what}: PyTorch has no value`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFloat64Array();
  const e = expected.toFloat64Array();
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const absTol = atol * Math.max(scale, 1e-3);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - e[i]!) <= absTol + rtol * Math.abs(e[i]!))) {
      assert.fail(`${what}[${i}]: got ${a[i]}, PyTorch ${e[i]} (scale ${scale})`);
    }
  }
}

/**
 * A torch.nn module as test/oracles/modules.py builds it: a class of torch.nn or of
 * test/oracles/reference_models.py, its arguments (lists become tuples), and for
 * containers its children, positional (a list) or named (an object, in order).
 */
export interface ModuleSpec {
  type: string;
  args?: OracleInput[];
  kwargs?: Record<string, OracleInput>;
  children?: ModuleSpec[] | Record<string, ModuleSpec>;
}

/** Shorthand for a ModuleSpec without children. */
export function torchModule(type: string, args: OracleInput[] = [], kwargs: Record<string, OracleInput> = {}): ModuleSpec {
  return { type, args, kwargs };
}

export interface OracleCheck {
  /** The reference module. */
  reference: ModuleSpec;
  /** Input for the forward/backward comparison; without one only the state-dict layout is compared. */
  input?: Tensor;
  rtol?: number;
  atol?: number;
}

export function checkAgainstPytorch(module: Module, check: OracleCheck): void {
  withTempDir((dir) => {
    const paths = { state_path: join(dir, 'state.bin'), data_path: join(dir, 'data.bin'), result_path: join(dir, 'result.bin') };
    const ours = module.stateDict();
    const input = check.input;
    let evalOutput: Tensor | undefined;
    let lossWeights: Tensor | undefined;
    if (input !== undefined) {
      writeTensors(paths.state_path, ours);
      module.eval();
      evalOutput = torch.noGrad(() => module.forward(input));
      lossWeights = torch.randnLike(evalOutput);
      writeTensors(paths.data_path, { x: input, w: lossWeights });
    }
    const ref = pytorch('modules.py', 'module', {
      ...paths,
      spec: check.reference as unknown as OracleInput,
      run: input !== undefined,
    }) as unknown as {
      keys: string[];
      shapes: number[][];
      dtypes: string[];
      parameter_names: string[];
    };
    assert.deepEqual(Object.keys(ours), ref.keys, 'state-dict keys and order');
    assert.deepEqual(
      Object.values(ours).map((t) => t.shape),
      ref.shapes,
      'state-dict shapes',
    );
    assert.deepEqual(
      Object.values(ours).map((t) => t.dtype),
      ref.dtypes,
      'state-dict dtypes',
    );
    assert.deepEqual(
      module.namedParameters().map(([name]) => name),
      ref.parameter_names,
      'parameter names and order',
    );
    if (input === undefined) return;

    const result = readTensors(paths.result_path);
    const tolerance = { rtol: check.rtol, atol: check.atol };
    assertTensorClose(evalOutput!, result['eval'], 'eval output', tolerance);
    module.train();
    module.zeroGrad();
    const x = input.detach().requiresGrad_();
    const output = module.forward(x);
    output.mul(lossWeights!).sum().backward();
    assertTensorClose(output, result['train'], 'train output', tolerance);
    assertTensorClose(x.grad!, result['input_grad'], 'input gradient', tolerance);
    for (const [name, p] of module.namedParameters()) {
      const grad = p.grad;
      const expected = result[`grad.${name}`];
      if (grad === null || expected === undefined) {
        assert.equal(
          grad === null,
          expected === undefined,
          `${name}: gradient present here ${grad !== null}, in PyTorch ${expected !== undefined}`,
        );
        continue;
      }
      assertTensorClose(grad, expected, `grad of ${name}`, tolerance);
    }
    for (const [name, t] of Object.entries(module.stateDict())) {
      assertTensorClose(t, result[`state.${name}`], `state ${name} after a train step`, tolerance);
    }
  });
}

/** Gives every BatchNorm random affine parameters and running statistics, so eval mode tests more than the identity. */
export function randomizeBatchNorms(module: Module): void {
  torch.noGrad(() =>
    torch.tidy(() => {
      for (const m of module.modules()) {
        if (!(m instanceof BatchNorm2d)) continue;
        m.weight?.copy_(torch.randnLike(m.weight).mul(0.2).add(1));
        m.bias?.copy_(torch.randnLike(m.bias).mul(0.2));
        m.runningMean?.copy_(torch.randnLike(m.runningMean).mul(0.1));
        m.runningVar?.copy_(torch.randLike(m.runningVar).add(0.5));
      }
    }),
  );
}
