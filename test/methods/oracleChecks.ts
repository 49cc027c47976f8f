// Comparing a method's loss and the parameter gradients of every trained model
// with the PyTorch side's `grads(loss, ...)` output (float32 tolerances).
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import { assertClose, type OracleTensor } from '../helpers/oracle.js';

export function assertLossAndGradients(
  loss: Tensor,
  models: Record<string, Module>,
  ref: Record<string, OracleTensor>,
  what: string,
): void {
  assertClose(loss, ref['loss']!, { atol: 1e-5, rtol: 1e-4, what: `${what} loss` });
  for (const [prefix, m] of Object.entries(models)) {
    for (const [name, p] of m.namedParameters()) {
      const expected = ref[prefix + name];
      assert.ok(expected, `${what}: PyTorch has no gradient for ${prefix}${name}`);
      assert.ok(p.grad, `${what}: no gradient for ${prefix}${name}`);
      assertClose(p.grad, expected, { atol: 2e-5, rtol: 1e-3, what: `${what} grad ${prefix}${name}` });
    }
  }
}

/** Clears the gradients of the models' parameters. */
export function clearGradients(...models: Module[]): void {
  for (const m of models) for (const p of m.parameters()) p.grad = null;
}
