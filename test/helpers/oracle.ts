// PyTorch as the test oracle: runs a Python snippet with Debian's python3-torch
// in the test run and returns the tensors it computed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Tensor, torch } from '../../src/index.js';

export const PYTHON = process.env.D2R_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export interface OracleTensor {
  shape: number[];
  dtype: string;
  data: number[];
}

type OracleInput = Tensor | number | string | boolean | number[] | null;

const PRELUDE = `
import json, sys, math
import torch
torch.set_num_threads(1)
_DT = {'float32': torch.float32, 'float64': torch.float64, 'int64': torch.int64, 'int32': torch.int32,
       'uint8': torch.uint8, 'bool': torch.bool, 'int8': torch.int8, 'int16': torch.int16}
_raw = json.load(sys.stdin)
inp = {}
for _k, _v in _raw.items():
    if isinstance(_v, dict) and '__tensor' in _v:
        inp[_k] = torch.tensor(_v['data'], dtype=_DT[_v['dtype']]).reshape(_v['shape'])
    else:
        inp[_k] = _v
out = {}
`;

const EPILOGUE = `
def _enc(v):
    if isinstance(v, torch.Tensor):
        v = v.detach()
        return {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''), 'data': v.reshape(-1).double().tolist()}
    return v
json.dump({k: _enc(v) for k, v in out.items()}, sys.stdout, allow_nan=True)
`;

function encode(v: OracleInput): unknown {
  if (v instanceof Tensor) return { __tensor: true, shape: v.shape, dtype: v.dtype, data: v.toNumbers() };
  return v;
}

/**
 * Runs \`script\` in Python with \`inp\` (a dict of torch tensors / plain values)
 * and returns what it stored in \`out\`. Tensors come back as flat float64 data.
 */
export function pytorch(script: string, inputs: Record<string, OracleInput> = {}): Record<string, OracleTensor & number> {
  const payload = JSON.stringify(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, encode(v)])));
  const result = spawnSync(PYTHON, ['-c', PRELUDE + script + EPILOGUE], { input: payload, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`PyTorch oracle failed (${PYTHON}):\n${result.stderr}`);
  return JSON.parse(result.stdout.replace(/\bNaN\b/g, 'null').replace(/-?Infinity/g, (m) => (m.startsWith('-') ? '-1e999' : '1e999')));
}

/** Largest absolute difference between a tensor and oracle data, after checking shapes. */
export function maxAbsDiff(actual: Tensor, expected: OracleTensor): number {
  const a = actual.toNumbers();
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
    throw new Error(`shape mismatch: got [${actual.shape}], PyTorch [${expected.shape}]`);
  }
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const e = expected.data[i]!;
    const d = Math.abs(a[i]! - e);
    if (Number.isNaN(d) && !(Number.isNaN(a[i]!) && e === null)) return Infinity;
    if (d > worst) worst = d;
  }
  return worst;
}

/** Asserts actual equals the oracle within atol + rtol * |expected| elementwise. */
export function assertClose(actual: Tensor, expected: OracleTensor, { atol = 1e-5, rtol = 1e-4, what = 'value' } = {}): void {
  const a = actual.toNumbers();
  if (JSON.stringify(actual.shape) !== JSON.stringify(expected.shape)) {
    throw new Error(`${what}: shape mismatch: got [${actual.shape}], PyTorch [${expected.shape}]`);
  }
  for (let i = 0; i < a.length; i++) {
    const e = expected.data[i]!;
    const x = a[i]!;
    if (e === null) {
      if (!Number.isNaN(x)) throw new Error(`${what}[${i}]: got ${x}, PyTorch NaN`);
      continue;
    }
    if (!(Math.abs(x - e) <= atol + rtol * Math.abs(e)) && x !== e) {
      throw new Error(`${what}[${i}]: got ${x}, PyTorch ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

export { torch };
