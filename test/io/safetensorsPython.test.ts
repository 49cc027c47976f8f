// Files move between this implementation and a plain-Python one written from
// the format description (test/oracles/safetensors.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tempDir.js';

function sample(): Record<string, Tensor> {
  torch.manualSeed(4);
  return {
    f64: torch.randn([2, 2], { dtype: 'float64' }),
    f32: torch.randn([3]),
    f16: torch.randn([2]).to('float16'),
    bf16: torch.randn([2]).to('bfloat16'),
    i64: torch.tensor(new BigInt64Array([5n, -6n])),
    i32: torch.tensor(new Int32Array([-7])),
    i16: torch.tensor(new Int16Array([300])),
    i8: torch.tensor(new Int8Array([-3, 4])),
    u8: torch.tensor(new Uint8Array([200])),
    bool: torch.tensor([true, false], { dtype: 'bool' }),
    empty: torch.zeros([2, 0]),
    scalar: torch.tensor(1.5, []),
  };
}

test("Python reads our files and we read Python's, every dtype", () => {
  const dir = tempDir();
  const ours = join(dir, 'ours.safetensors');
  const theirs = join(dir, 'theirs.safetensors');
  const record = sample();
  io.saveSafetensors(ours, record, { made_by: 'd2r' });
  const py = pytorch('safetensors.py', 'exchange', { ours, theirs, metadata: { made_by: 'd2r' } });
  for (const [name, t] of Object.entries(record)) {
    assert.deepEqual(py[`ours.${name}`]!.shape, t.shape, name);
    assert.deepEqual(py[`ours.${name}`]!.data, t.toNumbers(), name);
  }
  assert.deepEqual(
    Object.keys(record).map((n) => py[`dtype.${n}`]),
    ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F32', 'F32'],
  );
  const { tensors, metadata } = io.readSafetensors(theirs);
  assert.deepEqual(metadata, { framework: 'pt' });
  const dtypes = {
    weight: 'float32',
    half: 'float16',
    brain: 'bfloat16',
    steps: 'int64',
    flags: 'bool',
    small: 'int8',
    '0': 'float32',
    value: 'float64',
  };
  for (const [name, dtype] of Object.entries(dtypes)) {
    const t = tensors[name]!;
    assert.equal(t.dtype, dtype, name);
    assert.deepEqual(t.shape, py[`theirs.${name}`]!.shape, name);
    assert.deepEqual(t.toNumbers(), py[`theirs.${name}`]!.data, name);
  }
});
