// The Tensor class: a thin, typed handle over one libtorch tensor. The plain
// ops come from the op table (TensorOps in ops.generated.ts); this file holds
// the methods with logic of their own: metadata caching, data transfer, dtype
// and device moves, autograd accessors and the overloaded ones.
import { native, type Handle } from './native.js';
import { type DType, dtypeCode, dtypeFromCode, typedView } from './dtype.js';
import { track, type Disposable } from './scope.js';
import { TensorOps, handleOrScalar } from './ops.generated.js';
import { formatTensor } from './format.js';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
export type Device = string;

/** Unwraps a tensor to its handle; numbers and booleans pass through to the native layer. */
export const operand: (v: TensorOrScalar) => Handle | Scalar = handleOrScalar;

export class Tensor extends TensorOps implements Disposable {
  readonly handle: Handle;
  kept = false;
  private cachedShape: number[] | undefined;
  private cachedDtype: DType | undefined;

  /** Wraps a native handle. Library code creates tensors; users call torch.* factories. */
  constructor(handle: Handle, tracked = true) {
    super();
    if (handle === null) throw new Error('internal: a null handle cannot become a Tensor');
    this.handle = handle;
    if (!tracked || !track(this)) this.collectWhenUnreachable();
  }

  /** Lets the garbage collector free the tensor if nobody disposes it (see Disposable). */
  collectWhenUnreachable(): void {
    native.collectWhenUnreachable(this, this.handle);
  }

  protected fromHandle(handle: Handle): Tensor {
    return new Tensor(handle);
  }

  // ---- metadata ----------------------------------------------------------
  /** The size of each dimension (do not mutate the array). */
  get shape(): number[] {
    return (this.cachedShape ??= native.shape(this.handle));
  }
  get dtype(): DType {
    return (this.cachedDtype ??= dtypeFromCode(native.dtype(this.handle)));
  }
  get device(): Device {
    return native.device(this.handle);
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
    return native.isDisposed(this.handle);
  }

  /** Releases the native reference now (idempotent). */
  dispose(): void {
    native.dispose(this.handle);
  }

  override toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  /** console.log and util.inspect show the values, shape, dtype and device, as PyTorch prints a tensor. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  // ---- data ----------------------------------------------------------------
  /** A copy of the data as a typed array of the tensor's own dtype. */
  data(): ReturnType<typeof typedView> {
    return typedView(this.dtype, native.toBuffer(this.handle));
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

  // ---- dtype and device ------------------------------------------------------
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
    return native.requiresGrad(this.handle);
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
    return native.isLeaf(this.handle);
  }
  /** The accumulated gradient, or null. Each read gives a new handle to the same storage. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle);
    return h === null ? null : new Tensor(h);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g === null ? null : g.handle);
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

  // ---- overloaded and composite ops ---------------------------------------------
  /** this += other, or this += alpha * other when alpha is given (other must then be a tensor). */
  override add_(other: TensorOrScalar, alpha?: number): this {
    if (alpha === undefined) return super.add_(other);
    if (!(other instanceof Tensor)) throw new Error(`add_(other, alpha): other must be a tensor when alpha is given, got ${typeof other}`);
    native.addScaled_(this.handle, other.handle, alpha);
    return this;
  }
  /** The largest value overall (no dim) as a 0-d tensor. */
  max(): Tensor;
  /** Largest values and their indices along dim. */
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.amax();
    const [values, indices] = native.maxDim(this.handle, dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return this.amin();
    const [values, indices] = native.minDim(this.handle, dim, keepdim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  /** Pieces of `size` along dim (the last may be smaller), or pieces of the given sizes. */
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    const handles =
      typeof sizeOrSizes === 'number' ? native.split(this.handle, sizeOrSizes, dim) : native.splitWithSizes(this.handle, sizeOrSizes, dim);
    return handles.map((h) => new Tensor(h));
  }
}
