// Shared machinery for the engine tests: one fixed set of named inputs, and a
// runner that evaluates a table of cases here and in PyTorch (one Python run
// per table) and compares values, dtypes and shapes.
import assert from 'node:assert/strict';
import { torch } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch, assertClose, type OracleTensor } from '../helpers/oracle.js';

/** The named inputs every table refers to, in our code as `t.name` and in Python as `name`. */
export interface Inputs {
  a: Tensor; // [3,4] normal
  b: Tensor; // [3,4] normal
  row: Tensor; // [4] normal, broadcasts along rows
  col: Tensor; // [3,1] normal, broadcasts along columns
  pos: Tensor; // [3,4] in [0.5, 1.5), safe for log/sqrt/division
  c: Tensor; // [2,3,4] normal
  ia: Tensor; // int64 [3,4] in [-6, 6]
  ib: Tensor; // int64 [3,4] in [1, 4], safe divisor
  ic: Tensor; // int32 [3,4]
  u8: Tensor; // uint8 [3,4]
  m: Tensor; // bool [3,4]
  m2: Tensor; // bool [3,4]
  idx: Tensor; // int64 [3,2], distinct column indices per row
  dupIdx: Tensor; // int64 [3,2], with repeated column indices
  rowsIdx: Tensor; // int64 [2]
  img: Tensor; // [2,4,6,6] normal
  kw: Tensor; // conv weight [6,4,3,3]
  kb: Tensor; // conv bias [6]
  kg: Tensor; // grouped conv weight [4,2,3,3] (groups = 2)
  lw: Tensor; // linear weight [5,4]
  lb: Tensor; // linear bias [5]
  logits: Tensor; // [5,7]
  target: Tensor; // int64 [5] in [0, 7)
  probs: Tensor; // [5,7] rows sum to 1
  bnW: Tensor; // [4]
  bnB: Tensor; // [4]
  runMean: Tensor; // [4]
  runVar: Tensor; // [4] positive
}
export type InputName = keyof Inputs;

const ints = (rows: number[][]): Tensor => torch.tensor(rows, { dtype: 'int64' });

/** Builds the inputs from a fixed seed (float32; see inFloat64 for the float64 twin). */
export function makeInputs(seed = 7): Inputs {
  torch.manualSeed(seed);
  const randn = (shape: number[], scale = 1): Tensor => torch.randn(shape).mul(scale);
  return {
    a: randn([3, 4]),
    b: randn([3, 4]),
    row: randn([4]),
    col: randn([3, 1]),
    pos: torch.rand([3, 4]).add(0.5),
    c: randn([2, 3, 4]),
    ia: torch.randint(-6, 7, [3, 4]),
    ib: torch.randint(1, 5, [3, 4]),
    ic: torch.randint(-9, 10, [3, 4], { dtype: 'int32' }),
    u8: torch.randint(0, 200, [3, 4], { dtype: 'uint8' }),
    m: torch.rand([3, 4]).gt(0.5),
    m2: torch.rand([3, 4]).gt(0.4),
    idx: ints([
      [0, 3],
      [2, 1],
      [1, 2],
    ]),
    dupIdx: ints([
      [0, 0],
      [3, 1],
      [2, 2],
    ]),
    rowsIdx: torch.tensor([2, 0], { dtype: 'int64' }),
    img: randn([2, 4, 6, 6]),
    kw: randn([6, 4, 3, 3], 0.3),
    kb: randn([6]),
    kg: randn([4, 2, 3, 3], 0.3),
    lw: randn([5, 4], 0.5),
    lb: randn([5]),
    logits: randn([5, 7], 2),
    target: torch.randint(0, 7, [5]),
    probs: randn([5, 7]).softmax(1),
    bnW: torch.rand([4]).add(0.5),
    bnB: randn([4]),
    runMean: randn([4], 0.5),
    runVar: torch.rand([4]).add(0.5),
  };
}

export function floatNames(t: Inputs): InputName[] {
  return (Object.keys(t) as InputName[]).filter((k) => t[k].dtype === 'float32' || t[k].dtype === 'float64');
}

/** The same inputs with every float tensor converted to float64 (values are exact). */
export function inFloat64(t: Inputs): Inputs {
  const out = { ...t };
  for (const k of floatNames(t)) out[k] = t[k].to('float64');
  return out;
}

export type Result = Tensor | Tensor[];
export interface Case {
  name: string;
  ours: (t: Inputs) => Result;
  /** A Python expression over the input names, evaluated by test/oracles/engine.py; F is torch.nn.functional. */
  py: string;
  atol?: number;
  rtol?: number;
}

export const asList = (r: Result): Tensor[] => (Array.isArray(r) ? r : [r]);

/** The same deterministic weights as weights_like in test/oracles/engine.py: gradients are of sum(result * weights). */
export function weightsLike(x: Tensor): Tensor {
  return torch.arange(0, x.numel).to(x.dtype).mul(0.37).add(0.1).cos().reshape(x.shape);
}

/** The oracle's description of a table: each case's Python expression under its key v0, v1, ... (or a given prefix). */
export function pyCases(cases: Pick<Case, 'py'>[], prefix = 'v'): { key: string; expr: string }[] {
  return cases.map((c, n) => ({ key: `${prefix}${n}`, expr: c.py }));
}

type Oracle = Record<string, OracleTensor & number>;

/** Compares one case's results with what the oracle stored under key (count, dtypes, shapes, values). */
export function assertMatches(ours: Result, ref: Oracle, key: string, c: Pick<Case, 'name' | 'atol' | 'rtol'>): void {
  const error = ref[`${key}.error`] as unknown;
  assert.equal(error, undefined, `${c.name}: PyTorch raised ${String(error)}`);
  const list = asList(ours);
  assert.equal(list.length, ref[`${key}.n`], `${c.name}: number of results`);
  list.forEach((x, j) => {
    const expected = ref[`${key}.${j}`]!;
    const what = list.length > 1 ? `${c.name} [result ${j}]` : c.name;
    assert.equal(x.dtype, expected.dtype, `${what}: dtype`);
    assertClose(x, expected, { atol: c.atol ?? 1e-5, rtol: c.rtol ?? 1e-4, what });
  });
}

/** Evaluates every case here and in one PyTorch run, and compares them. */
export function checkTableAgainstPytorch(cases: Case[], t: Inputs): void {
  const ref = pytorch('engine.py', 'table', { tensors: { ...t }, cases: pyCases(cases) });
  const failures: string[] = [];
  cases.forEach((c, n) => {
    torch.tidy(() => {
      try {
        assertMatches(c.ours(t), ref, `v${n}`, c);
      } catch (err) {
        failures.push(`${(err as Error).message.split('\n')[0]}`);
      }
    });
  });
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases differ from PyTorch`);
}

/** Python literal for a list of dims, or None. */
export const pyDims = (dims: number | number[] | undefined): string =>
  dims === undefined ? 'None' : typeof dims === 'number' ? String(dims) : `(${dims.join(', ')},)`;
export const pyBool = (b: boolean): string => (b ? 'True' : 'False');

/** A compact table row: name, our expression, PyTorch's expression. */
export type Row = [string, (t: Inputs) => Result, string];
export const rows = (list: Row[]): Case[] => list.map(([name, ours, py]) => ({ name, ours, py }));
