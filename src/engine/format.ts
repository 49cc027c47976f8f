// How a tensor prints (console.log, util.inspect): its values laid out by shape
// as PyTorch prints them, summarised with "..." past 1,000 elements (3 edge
// items per dimension, PyTorch's defaults), then shape, dtype and device.
import type { Tensor } from './tensor.js';
import { isFloating } from './dtype.js';
import { tidy } from './scope.js';

const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const SKIPPED = Symbol('skipped');

type Nested = number | typeof SKIPPED | Nested[];

/** The values of t nested by shape; with `summarise`, only the edge items of each long dimension. */
function nestedValues(t: Tensor, summarise: boolean): Nested {
  if (!summarise) return nestFlat(t.toNumbers(), t.shape);
  if (t.ndim === 0) return t.toNumbers()[0]!;
  const n = t.shape[0]!;
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  const indices = n > 2 * EDGE_ITEMS ? [...range(0, EDGE_ITEMS), -1, ...range(n - EDGE_ITEMS, n)] : range(0, n);
  return indices.map((i) => {
    if (i < 0) return SKIPPED;
    const row = t.select(0, i);
    try {
      return nestedValues(row, summarise);
    } finally {
      row.dispose();
    }
  });
}

function nestFlat(flat: number[], shape: readonly number[]): Nested {
  const nest = (dim: number, offset: number): Nested => {
    if (dim === shape.length) return flat[offset]!;
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[dim]! }, (_, i) => nest(dim + 1, offset + i * stride));
  };
  return nest(0, 0);
}

function leaves(v: Nested, out: number[] = []): number[] {
  if (Array.isArray(v)) for (const e of v) leaves(e, out);
  else if (v !== SKIPPED) out.push(v);
  return out;
}

/** One number formatter for all values of a tensor, so columns line up (PyTorch's rule of thumb). */
function numberFormat(dtype: Tensor['dtype'], values: number[]): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'true' : 'false');
  if (!isFloating(dtype)) return (v) => String(v);
  const finite = values.filter((v) => Number.isFinite(v));
  const magnitudes = finite.map(Math.abs).filter((v) => v > 0);
  const largest = Math.max(0, ...magnitudes);
  const smallest = Math.min(Infinity, ...magnitudes);
  const scientific = largest >= 1e8 || smallest < 1e-4 || (magnitudes.length > 0 && largest / smallest > 1000);
  const integral = finite.every((v) => Number.isInteger(v));
  return (v) => {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    if (scientific) return v.toExponential(4);
    return integral ? `${v}.` : v.toFixed(4);
  };
}

function layout(v: Nested, text: (v: number) => string, width: number, indent: number): string {
  // PyTorch writes a skipped run as ' ...' among numbers and as '...' among rows.
  if (!Array.isArray(v)) return v === SKIPPED ? ' ...' : text(v).padStart(width);
  if (v.length === 0) return '[]';
  const inner = v.map((e) => (e === SKIPPED && v.some((x) => Array.isArray(x)) ? '...' : layout(e, text, width, indent + 1)));
  if (!Array.isArray(v[0]) && !v.some((e) => Array.isArray(e))) return `[${inner.join(', ')}]`;
  const depth = (e: Nested): number => (Array.isArray(e) ? 1 + depth(e[0] ?? 0) : 0);
  const separator = ',' + '\n'.repeat(Math.max(1, depth(v) - 1)) + ' '.repeat(indent + 1);
  return `[${inner.join(separator)}]`;
}

/** E.g. "tensor([[0.1000, 0.2000],\n        [0.3000, 0.4000]], shape=[2, 2], dtype=float32, device=cpu)". */
export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return 'tensor(<disposed>)';
  return tidy(() => formatLive(t));
}

function formatLive(t: Tensor): string {
  const values = nestedValues(t, t.numel > SUMMARY_THRESHOLD);
  const text = numberFormat(t.dtype, leaves(values));
  const width = Math.max(0, ...leaves(values).map((x) => text(x).length));
  const extras = [
    `shape=[${t.shape.join(', ')}]`,
    `dtype=${t.dtype}`,
    `device=${t.device}`,
    ...(t.requiresGrad ? ['requiresGrad=true'] : []),
  ];
  return `tensor(${layout(values, text, width, 'tensor('.length)}, ${extras.join(', ')})`;
}
