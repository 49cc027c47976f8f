// The Tensor class: a thin, typed handle over one libtorch tensor.
import { native, type Handle } from './native.js';
import { type DType, dtypeCode, dtypeFromCode, typedView } from './dtype.js';
import { track, type Disposable } from './scope.js';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type Device = string;

/** Unwraps a tensor to its handle; numbers and booleans pass through to the native layer. */
export function operand(v: TensorOrScalar): Handle | Scalar {
  return v instanceof Tensor ? v.handle : v;
}

export class Tensor implements Disposable {
  readonly handle: Handle;
  kept = false;
  private cachedShape: number[] | undefined;
  private cachedDtype: DType | undefined;

  /** Wraps a native handle. Library code creates tensors; users call torch.* factories. */
  constructor(handle: Handle, tracked = true) {
    if (handle === null) throw new Error('internal: a null handle cannot become a Tensor');
    this.handle = handle;
    if (tracked) track(this);
  }

  // ---- metadata ----------------------------------------------------------
  /** The size of each dimension (do not mutate the array). */
  get shape(): number[] {
    return (this.cachedShape ??= native.shape(this.handle) as number[]);
  }
  get dtype(): DType {
    return (this.cachedDtype ??= dtypeFromCode(native.dtype(this.handle) as number));
  }
  get device(): Device {
    return native.device(this.handle) as string;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    return this.shape[dim < 0 ? dim + this.ndim : dim]!;
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.handle) as boolean;
  }
  isContiguous(): boolean {
    return native.isContiguous(this.handle) as boolean;
  }

  /** Releases the native reference now (idempotent). */
  dispose(): void {
    native.dispose(this.handle);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- data ----------------------------------------------------------------
  /** A copy of the data as a typed array of the tensor's own dtype. */
  data(): ReturnType<typeof typedView> {
    return typedView(this.dtype, native.toBuffer(this.handle) as ArrayBuffer);
  }
  toFloat32Array(): Float32Array {
    return (this.dtype === 'float32' ? this : this.to('float32')).data() as Float32Array;
  }
  toFloat64Array(): Float64Array {
    return (this.dtype === 'float64' ? this : this.to('float64')).data() as Float64Array;
  }
  toInt32Array(): Int32Array {
    return (this.dtype === 'int32' ? this : this.to('int32')).data() as Int32Array;
  }
  toBigInt64Array(): BigInt64Array {
    return (this.dtype === 'int64' ? this : this.to('int64')).data() as BigInt64Array;
  }
  toUint8Array(): Uint8Array {
    return (this.dtype === 'uint8' || this.dtype === 'bool' ? this : this.to('uint8')).data() as Uint8Array;
  }
  /** The values as plain numbers, flattened in row-major order. */
  toNumbers(): number[] {
    if (this.dtype === 'int64') return Array.from(this.toBigInt64Array(), Number);
    if (this.dtype === 'bool') return Array.from(this.toUint8Array());
    return Array.from(this.toFloat64Array());
  }
  /** Nested arrays mirroring the shape (a number for a 0-d tensor). */
  toArray(): unknown {
    const flat = this.toNumbers();
    const nest = (dim: number, offset: number): unknown => {
      if (dim === this.ndim) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => nest(dim + 1, offset + i * stride));
    };
    return nest(0, 0);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    return Number(native.item(this.handle));
  }

  // ---- copies, dtype and device ---------------------------------------------
  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }
  /** Same data, cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  /** Converts to a dtype ('float64', ...) or moves to a device ('cpu', 'cuda', 'cuda:1'). */
  to(target: DType | Device): Tensor {
    if (target in dtypeCode) return new Tensor(native.toDtype(this.handle, dtypeCode[target as DType]));
    return new Tensor(native.toDevice(this.handle, target));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }
  bool(): Tensor {
    return this.to('bool');
  }

  // ---- autograd --------------------------------------------------------------
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle) as boolean;
  }
  set requiresGrad(value: boolean) {
    native.setRequiresGrad(this.handle, value);
  }
  /** Sets requiresGrad and returns this, like PyTorch's requires_grad_(). */
  requiresGrad_(value = true): this {
    native.setRequiresGrad(this.handle, value);
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle) as boolean;
  }
  /** The accumulated gradient, or null. Each read gives a new handle to the same storage. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle) as Handle | null;
    return h === null ? null : new Tensor(h);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
  }
  retainGrad(): void {
    native.retainGrad(this.handle);
  }
  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, options.retainGraph ?? false, options.createGraph ?? false);
  }
  /** Replaces the data under this tensor, keeping its identity (used to move or load parameters). */
  setData(other: Tensor): void {
    native.setData(this.handle, other.handle);
    this.cachedShape = undefined;
    this.cachedDtype = undefined;
  }

  // ---- elementwise -------------------------------------------------------------
  add(other: TensorOrScalar): Tensor {
    return new Tensor(native.add(this.handle, operand(other)));
  }
  sub(other: TensorOrScalar): Tensor {
    return new Tensor(native.sub(this.handle, operand(other)));
  }
  mul(other: TensorOrScalar): Tensor {
    return new Tensor(native.mul(this.handle, operand(other)));
  }
  div(other: TensorOrScalar): Tensor {
    return new Tensor(native.div(this.handle, operand(other)));
  }
  pow(exponent: TensorOrScalar): Tensor {
    return new Tensor(native.pow(this.handle, operand(exponent)));
  }
  remainder(other: TensorOrScalar): Tensor {
    return new Tensor(native.remainder(this.handle, operand(other)));
  }
  floorDivide(other: TensorOrScalar): Tensor {
    return new Tensor(native.floorDivide(this.handle, operand(other)));
  }
  maximum(other: TensorOrScalar): Tensor {
    return new Tensor(native.maximum(this.handle, operand(other)));
  }
  minimum(other: TensorOrScalar): Tensor {
    return new Tensor(native.minimum(this.handle, operand(other)));
  }
  eq(other: TensorOrScalar): Tensor {
    return new Tensor(native.eq(this.handle, operand(other)));
  }
  ne(other: TensorOrScalar): Tensor {
    return new Tensor(native.ne(this.handle, operand(other)));
  }
  lt(other: TensorOrScalar): Tensor {
    return new Tensor(native.lt(this.handle, operand(other)));
  }
  le(other: TensorOrScalar): Tensor {
    return new Tensor(native.le(this.handle, operand(other)));
  }
  gt(other: TensorOrScalar): Tensor {
    return new Tensor(native.gt(this.handle, operand(other)));
  }
  ge(other: TensorOrScalar): Tensor {
    return new Tensor(native.ge(this.handle, operand(other)));
  }
  logicalAnd(other: TensorOrScalar): Tensor {
    return new Tensor(native.logicalAnd(this.handle, operand(other)));
  }
  logicalOr(other: TensorOrScalar): Tensor {
    return new Tensor(native.logicalOr(this.handle, operand(other)));
  }
  logicalXor(other: TensorOrScalar): Tensor {
    return new Tensor(native.logicalXor(this.handle, operand(other)));
  }
  logicalNot(): Tensor {
    return new Tensor(native.logicalNot(this.handle));
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  log1p(): Tensor {
    return new Tensor(native.log1p(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return new Tensor(native.rsqrt(this.handle));
  }
  square(): Tensor {
    return new Tensor(native.square(this.handle));
  }
  reciprocal(): Tensor {
    return new Tensor(native.reciprocal(this.handle));
  }
  relu(): Tensor {
    return new Tensor(native.relu(this.handle));
  }
  sigmoid(): Tensor {
    return new Tensor(native.sigmoid(this.handle));
  }
  tanh(): Tensor {
    return new Tensor(native.tanh(this.handle));
  }
  sin(): Tensor {
    return new Tensor(native.sin(this.handle));
  }
  cos(): Tensor {
    return new Tensor(native.cos(this.handle));
  }
  floor(): Tensor {
    return new Tensor(native.floor(this.handle));
  }
  ceil(): Tensor {
    return new Tensor(native.ceil(this.handle));
  }
  round(): Tensor {
    return new Tensor(native.round(this.handle));
  }
  isnan(): Tensor {
    return new Tensor(native.isnan(this.handle));
  }
  isinf(): Tensor {
    return new Tensor(native.isinf(this.handle));
  }
  isfinite(): Tensor {
    return new Tensor(native.isfinite(this.handle));
  }
  /** Clamps to [min, max]; either bound may be a number, a tensor, or null for none. */
  clamp(min: TensorOrScalar | null, max: TensorOrScalar | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min === null ? null : operand(min), max === null ? null : operand(max)));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }
  softmax(dim: number): Tensor {
    return new Tensor(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.logSoftmax(this.handle, dim));
  }
  cumsum(dim: number): Tensor {
    return new Tensor(native.cumsum(this.handle, dim));
  }

  // ---- in place (no new handle; for optimisers and bookkeeping buffers) ------
  add_(other: TensorOrScalar, alpha?: number): this {
    if (alpha === undefined) native.add_(this.handle, operand(other));
    else native.addScaled_(this.handle, (other as Tensor).handle, alpha);
    return this;
  }
  sub_(other: TensorOrScalar): this {
    native.sub_(this.handle, operand(other));
    return this;
  }
  mul_(other: TensorOrScalar): this {
    native.mul_(this.handle, operand(other));
    return this;
  }
  div_(other: TensorOrScalar): this {
    native.div_(this.handle, operand(other));
    return this;
  }
  copy_(src: TensorOrScalar): this {
    native.copy_(this.handle, operand(src));
    return this;
  }
  fill_(value: TensorOrScalar): this {
    native.fill_(this.handle, operand(value));
    return this;
  }
  zero_(): this {
    native.zero_(this.handle);
    return this;
  }
  clamp_(min: TensorOrScalar | null, max: TensorOrScalar | null = null): this {
    native.clamp_(this.handle, min === null ? null : operand(min), max === null ? null : operand(max));
    return this;
  }
  maximum_(other: TensorOrScalar): this {
    native.maximum_(this.handle, operand(other));
    return this;
  }
  minimum_(other: TensorOrScalar): this {
    native.minimum_(this.handle, operand(other));
    return this;
  }
  /** this += value * a * b */
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native.addcmul_(this.handle, a.handle, b.handle, value);
    return this;
  }
  /** this += value * a / b */
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    native.addcdiv_(this.handle, a.handle, b.handle, value);
    return this;
  }
  /** this += weight * (end - this) */
  lerp_(end: Tensor, weight: number): this {
    native.lerp_(this.handle, end.handle, weight);
    return this;
  }
  /** this[index along dim] = source, in place. */
  indexCopy_(dim: number, index: Tensor, source: Tensor): this {
    native.indexCopy_(this.handle, dim, index.handle, source.handle);
    return this;
  }

  // ---- reductions ----------------------------------------------------------------
  sum(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.sum(this.handle, dimList(dims), keepdim));
  }
  mean(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.mean(this.handle, dimList(dims), keepdim));
  }
  amax(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.amax(this.handle, dimList(dims), keepdim));
  }
  amin(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.amin(this.handle, dimList(dims), keepdim));
  }
  logsumexp(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.logsumexp(this.handle, dimList(dims), keepdim));
  }
  /** Unbiased variance (as torch.var). */
  var(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.var(this.handle, dimList(dims), keepdim));
  }
  /** Unbiased standard deviation (as torch.std). */
  std(dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.std(this.handle, dimList(dims), keepdim));
  }
  all(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.all(this.handle, dim ?? null, keepdim));
  }
  any(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.any(this.handle, dim ?? null, keepdim));
  }
  /** The largest value overall (no dim) as a 0-d tensor. */
  max(): Tensor;
  /** Largest values and their indices along dim. */
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.amax();
    const [values, indices] = native.maxDim(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(values!), indices: new Tensor(indices!) };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.amin();
    const [values, indices] = native.minDim(this.handle, dim, keepdim) as Handle[];
    return { values: new Tensor(values!), indices: new Tensor(indices!) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(native.argmin(this.handle, dim ?? null, keepdim));
  }
  /** Vector p-norm (p = 1, 2, Infinity, ...) over dims (all when omitted). */
  norm(p = 2, dims?: number | number[] | null, keepdim = false): Tensor {
    return new Tensor(native.norm(this.handle, p, dimList(dims), keepdim));
  }

  // ---- sorting and indexing ------------------------------------------------------
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.sort(this.handle, dim, descending) as Handle[];
    return { values: new Tensor(values!), indices: new Tensor(indices!) };
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.topk(this.handle, k, dim, largest, sorted) as Handle[];
    return { values: new Tensor(values!), indices: new Tensor(indices!) };
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(native.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: TensorOrScalar): Tensor {
    return new Tensor(native.scatter(this.handle, dim, index.handle, operand(src)));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native.scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  /** Out-of-place index_copy: a copy of this with rows `index` along dim replaced by source. */
  indexCopy(dim: number, index: Tensor, source: Tensor): Tensor {
    return new Tensor(native.indexCopy(this.handle, dim, index.handle, source.handle));
  }
  /** The elements where mask is true, as a 1-d tensor (boolean-mask select). */
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(native.maskedSelect(this.handle, mask.handle));
  }
  maskedFill(mask: Tensor, value: TensorOrScalar): Tensor {
    return new Tensor(native.maskedFill(this.handle, mask.handle, operand(value)));
  }
  /** Indices of non-zero elements, shape [count, ndim]. */
  nonzero(): Tensor {
    return new Tensor(native.nonzero(this.handle));
  }

  // ---- shape -------------------------------------------------------------------------
  reshape(shape: number[]): Tensor {
    return new Tensor(native.reshape(this.handle, shape));
  }
  view(shape: number[]): Tensor {
    return new Tensor(native.view(this.handle, shape));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return new Tensor(native.flatten(this.handle, startDim, endDim));
  }
  permute(dims: number[]): Tensor {
    return new Tensor(native.permute(this.handle, dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return new Tensor(native.transpose(this.handle, dim0, dim1));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim ?? null));
  }
  expand(shape: number[]): Tensor {
    return new Tensor(native.expand(this.handle, shape));
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  repeat(repeats: number[]): Tensor {
    return new Tensor(native.repeat(this.handle, repeats));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  /** Python's t[..., start:end:step] along dim; negative start/end count from the end. */
  slice(dim: number, start = 0, end = Number.MAX_SAFE_INTEGER, step = 1): Tensor {
    return new Tensor(native.slice(this.handle, dim, start, end, step));
  }
  /** Python's t[..., index] along dim (the dim is removed). */
  select(dim: number, index: number): Tensor {
    return new Tensor(native.select(this.handle, dim, index));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(native.flip(this.handle, dims));
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return (native.split(this.handle, sizeOrSizes, dim) as Handle[]).map((h) => new Tensor(h));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return (native.chunk(this.handle, chunks, dim) as Handle[]).map((h) => new Tensor(h));
  }
}

function dimList(dims: number | number[] | null | undefined): number[] | null {
  if (dims === undefined || dims === null) return null;
  return typeof dims === 'number' ? [dims] : dims;
}
