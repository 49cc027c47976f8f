// PyTorch as the test oracle: runs a check of one of the programs in
// test/oracles/ with Debian's python3-torch in the test run and returns the
// tensors it computed. The wire format is described in test/oracles/oracle_io.py.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, torch } from '../../src/index.js';

export const PYTHON = process.env.D2R_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export interface OracleTensor {
  shape: number[];
  dtype: string;
  data: number[];
}

export type OracleInput = Tensor | number | string | boolean | null | OracleInput[] | { [key: string]: OracleInput };

/** test/oracles of the repository, found from here whether this runs compiled (dist/test/helpers) or not. */
function oracleDirectory(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'oracles');
    if (existsSync(join(candidate, 'oracle_io.py'))) return candidate;
  }
  throw new Error('PyTorch oracle: no test/oracles/oracle_io.py above ' + fileURLToPath(import.meta.url));
}
const ORACLES = oracleDirectory();

function encode(v: OracleInput): unknown {
  if (v instanceof Tensor) return { __tensor: true, shape: v.shape, dtype: v.dtype, data: v.toNumbers() };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

/**
 * Runs `check` of the oracle program `program` (a file in test/oracles/) with
 * `inputs` as its parameters and returns its results. Tensors come back as flat float64 data.
 */
export function pytorch(program: string, check: string, inputs: Record<string, OracleInput> = {}): Record<string, OracleTensor & number> {
  const payload = JSON.stringify(encode(inputs));
  const result = spawnSync(PYTHON, [join(ORACLES, program), check], {
    input: payload,
    maxBuffer: 1 << 30,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (result.status !== 0) throw new Error(`PyTorch oracle ${program} ${check} failed (${PYTHON}):\n${result.stderr}`);
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
