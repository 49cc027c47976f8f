// Data types and their codes in libtorch's c10::ScalarType enum.
export type DType = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'bool' | 'bfloat16';

export const dtypeCode: Record<DType, number> = {
  uint8: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  int64: 4,
  float16: 5,
  float32: 6,
  float64: 7,
  bool: 11,
  bfloat16: 15,
};

const byCode = new Map<number, DType>(Object.entries(dtypeCode).map(([name, code]) => [code, name as DType]));

export function dtypeFromCode(code: number): DType {
  const dtype = byCode.get(code);
  if (dtype === undefined) throw new Error(`unsupported libtorch dtype code ${code}`);
  return dtype;
}

export const bytesPerElement: Record<DType, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float16: 2,
  float32: 4,
  float64: 8,
  bool: 1,
  bfloat16: 2,
};

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'int16' | 'float16' | 'bfloat16'
          ? Int16Array | Uint16Array
          : D extends 'int8'
            ? Int8Array
            : Uint8Array;

/** A typed array viewing the raw bytes of a tensor of the given dtype. */
export function typedView(
  dtype: DType,
  buffer: ArrayBuffer,
): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Uint16Array | Int8Array | Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int16':
      return new Int16Array(buffer);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
  }
}
