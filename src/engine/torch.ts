// The `torch` namespace: factories, functional ops, autograd and runtime controls.
import { native } from './native.js';
import { type DType, dtypeCode, isFloating } from './dtype.js';
import { Tensor, type TensorOrScalar, type Device } from './tensor.js';

export { Tensor } from './tensor.js';
export type { TensorOrScalar, Scalar, Device } from './tensor.js';
export type { DType } from './dtype.js';
export { tidy, keep, dispose, tensorsIn } from './scope.js';
export { iterate, STOP } from './loop.js';
// The plain functions of the op table (where, cat, stack, oneHot, allclose, linear, grad mode, rng state, threads, devices).
export * from './functions.generated.js';
import { isGradEnabled } from './functions.generated.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

function code(dtype: DType | undefined, fallback: DType = 'float32'): number {
  const d = dtype ?? fallback;
  const c = dtypeCode[d];
  if (c === undefined) throw new Error(`unknown dtype '${d}'; expected one of ${Object.keys(dtypeCode).join(', ')}`);
  return c;
}

function checkShape(shape: readonly number[], what: string): number[] {
  if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new Error(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

// ---- creation ------------------------------------------------------------------
type NestedNumbers = number | boolean | NestedNumbers[];
type DataSource =
  NestedNumbers | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array;

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
  }
  return shape;
}

function flattenNested(data: NestedNumbers): (number | boolean)[] {
  const out: (number | boolean)[] = [];
  const walk = (v: NestedNumbers): void => {
    if (Array.isArray(v)) for (const e of v) walk(e);
    else out.push(v);
  };
  walk(data);
  return out;
}

function typedFor(dtype: DType, values: ArrayLike<number | boolean>): ArrayBufferView {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values, Number);
    case 'float64':
      return Float64Array.from(values, Number);
    case 'int32':
      return Int32Array.from(values, Number);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(Number(v))));
    case 'int16':
      return Int16Array.from(values, Number);
    case 'int8':
      return Int8Array.from(values, Number);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? (v ? 1 : 0) : Number(v)));
    default:
      throw new Error(`tensor(): creating ${dtype} from numbers is not supported; create float32 and convert with .to('${dtype}')`);
  }
}

function defaultDtypeOf(data: DataSource): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  return 'float32';
}

/**
 * Creates a tensor from nested arrays or a typed array. With a typed array the
 * shape defaults to 1-d and the dtype follows the array type (Float32Array ->
 * float32, BigInt64Array -> int64, ...); nested numbers default to float32.
 */
export function tensor(data: DataSource, shapeOrOptions?: number[] | CreateOptions, maybeOptions: CreateOptions = {}): Tensor {
  const shapeGiven = Array.isArray(shapeOrOptions) ? shapeOrOptions : undefined;
  const options = (Array.isArray(shapeOrOptions) ? maybeOptions : shapeOrOptions) ?? {};
  let flat: ArrayLike<number | boolean> | ArrayBufferView;
  let shape: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data as ArrayBufferView;
    shape = shapeGiven ?? [(data as unknown as ArrayLike<number>).length];
  } else {
    const nested = data as NestedNumbers;
    shape = shapeGiven ?? inferShape(nested);
    flat = flattenNested(nested);
  }
  checkShape(shape, 'tensor()');
  const count = shape.reduce((a, b) => a * b, 1);
  const length = (flat as ArrayLike<unknown>).length;
  if (length !== count) {
    throw new Error(`tensor(): shape [${shape.join(', ')}] holds ${count} values but ${length} were given`);
  }
  const dtype = options.dtype ?? (ArrayBuffer.isView(data) ? defaultDtypeOf(data) : 'float32');
  const source =
    ArrayBuffer.isView(flat) && defaultDtypeOf(data) === dtype && !(flat instanceof Uint16Array)
      ? (flat as ArrayBufferView)
      : typedFor(dtype, ArrayBuffer.isView(flat) ? Array.from(flat as unknown as ArrayLike<number | bigint>, Number) : flat);
  const t = new Tensor(native.fromBuffer(source, shape, code(dtype)));
  return options.device && options.device !== 'cpu' ? t.to(options.device) : t;
}

/** Builds a tensor from raw bytes laid out as the given dtype (used by readers and io). */
export function fromBytes(bytes: ArrayBufferView, shape: number[], dtype: DType): Tensor {
  return new Tensor(native.fromBuffer(bytes, checkShape(shape, 'fromBytes()'), code(dtype)));
}

export function zeros(shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.zeros(checkShape(shape, 'zeros()'), code(options.dtype), options.device ?? null));
}
export function ones(shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.ones(checkShape(shape, 'ones()'), code(options.dtype), options.device ?? null));
}
export function empty(shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.empty(checkShape(shape, 'empty()'), code(options.dtype), options.device ?? null));
}
export function full(shape: number[], value: number | boolean, options: CreateOptions = {}): Tensor {
  return new Tensor(native.full(checkShape(shape, 'full()'), value, code(options.dtype), options.device ?? null));
}
/** arange(end) or arange(start, end, step); int64 when all arguments are integers, as in PyTorch. */
export function arange(startOrEnd: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  const integral = [s, e, step].every(Number.isInteger);
  return new Tensor(native.arange(s, e, step, code(options.dtype, integral ? 'int64' : 'float32'), options.device ?? null));
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.rand(checkShape(shape, 'rand()'), code(options.dtype), options.device ?? null));
}
/** Standard normal samples. */
export function randn(shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.randn(checkShape(shape, 'randn()'), code(options.dtype), options.device ?? null));
}
/** Integers uniform in [low, high); int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: number[], options: CreateOptions = {}): Tensor {
  return new Tensor(native.randint(low, high, checkShape(shape, 'randint()'), code(options.dtype, 'int64'), options.device ?? null));
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, options: CreateOptions = {}): Tensor {
  return new Tensor(native.randperm(n, code(options.dtype, 'int64'), options.device ?? null));
}
export function eye(n: number, options: CreateOptions = {}): Tensor {
  return new Tensor(native.eye(n, code(options.dtype), options.device ?? null));
}

function likeOptions(t: Tensor, options: CreateOptions): CreateOptions {
  return { dtype: options.dtype ?? t.dtype, device: options.device ?? t.device };
}
export const zerosLike = (t: Tensor, o: CreateOptions = {}): Tensor => zeros(t.shape, likeOptions(t, o));
export const onesLike = (t: Tensor, o: CreateOptions = {}): Tensor => ones(t.shape, likeOptions(t, o));
export const emptyLike = (t: Tensor, o: CreateOptions = {}): Tensor => empty(t.shape, likeOptions(t, o));
export const fullLike = (t: Tensor, v: number, o: CreateOptions = {}): Tensor => full(t.shape, v, likeOptions(t, o));
export const randLike = (t: Tensor, o: CreateOptions = {}): Tensor => rand(t.shape, likeOptions(t, o));
export const randnLike = (t: Tensor, o: CreateOptions = {}): Tensor => randn(t.shape, likeOptions(t, o));
export const randintLike = (t: Tensor, low: number, high: number, o: CreateOptions = {}): Tensor =>
  randint(low, high, t.shape, likeOptions(t, o));

// ---- functional forms of tensor ops ------------------------------------------------
export const add = (a: Tensor, b: TensorOrScalar): Tensor => a.add(b);
export const sub = (a: Tensor, b: TensorOrScalar): Tensor => a.sub(b);
export const mul = (a: Tensor, b: TensorOrScalar): Tensor => a.mul(b);
export const div = (a: Tensor, b: TensorOrScalar): Tensor => a.div(b);
export const neg = (a: Tensor): Tensor => a.neg();
export const pow = (a: Tensor, b: TensorOrScalar): Tensor => a.pow(b);
export const abs = (a: Tensor): Tensor => a.abs();
export const sign = (a: Tensor): Tensor => a.sign();
export const exp = (a: Tensor): Tensor => a.exp();
export const log = (a: Tensor): Tensor => a.log();
export const sqrt = (a: Tensor): Tensor => a.sqrt();
export const relu = (a: Tensor): Tensor => a.relu();
export const sigmoid = (a: Tensor): Tensor => a.sigmoid();
export const tanh = (a: Tensor): Tensor => a.tanh();
export const softmax = (a: Tensor, dim: number): Tensor => a.softmax(dim);
export const logSoftmax = (a: Tensor, dim: number): Tensor => a.logSoftmax(dim);
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const maximum = (a: Tensor, b: TensorOrScalar): Tensor => a.maximum(b);
export const minimum = (a: Tensor, b: TensorOrScalar): Tensor => a.minimum(b);
export const clamp = (a: Tensor, min: TensorOrScalar | null, max: TensorOrScalar | null = null): Tensor => a.clamp(min, max);

export type PadMode = 'constant' | 'reflect' | 'replicate';
/** Pads with PyTorch's convention: pads lists (before, after) pairs starting from the last dim. */
export function pad(t: Tensor, pads: number[], mode: PadMode = 'constant', value = 0): Tensor {
  if (pads.length % 2 !== 0) throw new Error(`pad(): pads must hold (before, after) pairs, got ${pads.length} values`);
  return new Tensor(native.pad(t.handle, pads, mode, value));
}

// ---- neural-network functionals -------------------------------------------------------
/** A size given once for both spatial dims, or as [height, width]. */
export type Pair = number | [number, number];
export const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(
    native.conv2d(
      x.handle,
      weight.handle,
      bias?.handle ?? null,
      pair(o.stride ?? 1),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.groups ?? 1,
    ),
  );
}
export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions = {}): Tensor {
  return new Tensor(
    native.batchNorm(
      x.handle,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      o.weight?.handle ?? null,
      o.bias?.handle ?? null,
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}
export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export function maxPool2d(x: Tensor, kernel: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return new Tensor(
    native.maxPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.ceilMode ?? false),
  );
}
export function avgPool2d(x: Tensor, kernel: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  return new Tensor(
    native.avgPool2d(
      x.handle,
      pair(kernel),
      pair(o.stride ?? kernel),
      pair(o.padding ?? 0),
      o.ceilMode ?? false,
      o.countIncludePad ?? true,
    ),
  );
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout(): p must be in [0, 1], got ${p}`);
  return new Tensor(native.dropout(x.handle, p, training));
}

export type Reduction = 'none' | 'mean' | 'sum';
/** Cross-entropy from logits and int64 class indices (PyTorch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, target: Tensor, o: { reduction?: Reduction; labelSmoothing?: number } = {}): Tensor {
  return new Tensor(native.crossEntropy(logits.handle, target.handle, o.reduction ?? 'mean', o.labelSmoothing ?? 0));
}
export function nllLoss(logProbs: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return new Tensor(native.nllLoss(logProbs.handle, target.handle, o.reduction ?? 'mean'));
}
export function mseLoss(input: Tensor, target: Tensor, o: { reduction?: Reduction } = {}): Tensor {
  return new Tensor(native.mseLoss(input.handle, target.handle, o.reduction ?? 'mean'));
}
/**
 * PyTorch's F.kl_div: input holds log-probabilities, target probabilities (or
 * log-probabilities with logTarget). 'batchmean' divides the sum by the batch size.
 */
export function klDiv(input: Tensor, target: Tensor, o: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'batchmean') {
    const total = new Tensor(native.klDiv(input.handle, target.handle, 'sum', o.logTarget ?? false));
    const out = total.div(input.shape[0] ?? 1);
    total.dispose();
    return out;
  }
  return new Tensor(native.klDiv(input.handle, target.handle, reduction, o.logTarget ?? false));
}

// ---- autograd ---------------------------------------------------------------------------
/** Runs fn with gradient recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const previous = isGradEnabled();
  native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}
/** Runs fn with gradient recording on (torch.enable_grad), e.g. inside an attack called under noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const previous = isGradEnabled();
  native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}
export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}
/** torch.autograd.grad: gradients of outputs with respect to inputs, without touching .grad. */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  const handles = native.autogradGrad(
    outs.map((t) => t.handle),
    ins.map((t) => t.handle),
    o.gradOutputs ? o.gradOutputs.map((t) => t.handle) : null,
    o.retainGraph ?? false,
    o.createGraph ?? false,
    o.allowUnused ?? false,
  );
  return handles.map((h) => (h === null ? null : new Tensor(h)));
}
/** Clears the .grad of each tensor (sets it to null, as PyTorch's set_to_none). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}

// ---- random state, threads, devices ---------------------------------------------------------
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`manualSeed(): expected a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}
/** What the live native tensor handles hold (like TensorFlow.js's tf.memory()). */
export interface MemoryInfo {
  /** Tensor handles neither disposed nor collected. */
  numTensors: number;
  /** Sum over those handles of numel x element size; views and aliases count again. */
  numBytes: number;
}
/** Counts the live native tensor handles: each wrap adds one, dispose or the GC finalizer removes it. */
export function memory(): MemoryInfo {
  return native.memory();
}
/** The version of the libtorch the addon was built against. */
export function libtorchVersion(): string {
  return native.version();
}
export { isFloating };
