// The safetensors format (https://github.com/huggingface/safetensors):
//
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   UTF-8 JSON object {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"?: {str: str}},
//             starting with '{' and padded with spaces so the data starts 8-byte aligned
//   rest      the byte buffer: every tensor little-endian, row-major, at data_offsets
//             (relative to the buffer), tiling it exactly: no overlaps, no holes, nothing after.
//
// Writing reproduces the reference writer byte for byte: tensors ordered by
// descending dtype (the order of its Dtype enum below, which puts wider
// alignments first), then by name; `__metadata__` first; compact JSON.
// Reading validates all of the header before touching any tensor data, and
// bounds what a hostile header can cost: its length, its number of tensors
// (counted before JSON.parse allocates them) and their ranks; every check is linear.
import { readFileSync } from 'node:fs';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import type { DType } from '../engine/dtype.js';
import { writeFileAtomic } from './atomic.js';
import { scanJsonKeys } from './duplicateJsonKey.js';
import { describeKind, torchFileKind } from './zipArchive.js';

/** The format's dtypes in the reference's enum order; null where the engine has no such dtype. */
const FILE_DTYPES: [code: string, dtype: DType | null, bytes: number][] = [
  ['BOOL', 'bool', 1],
  ['U8', 'uint8', 1],
  ['I8', 'int8', 1],
  ['F8_E5M2', null, 1],
  ['F8_E4M3', null, 1],
  ['I16', 'int16', 2],
  ['U16', null, 2],
  ['F16', 'float16', 2],
  ['BF16', 'bfloat16', 2],
  ['I32', 'int32', 4],
  ['U32', null, 4],
  ['F32', 'float32', 4],
  ['F64', 'float64', 8],
  ['I64', 'int64', 8],
  ['U64', null, 8],
];
const BY_CODE = new Map(FILE_DTYPES.map(([code, dtype, bytes], rank) => [code, { code, dtype, bytes, rank }]));
const BY_DTYPE = new Map([...BY_CODE.values()].filter((d) => d.dtype !== null).map((d) => [d.dtype!, d]));

/** The reference refuses larger headers. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * Each tensor costs a native allocation even when empty: a 59 MB header of a
 * million empty tensors took 40 s and 1.8 GB to load. Real checkpoints hold
 * hundreds to a few thousand tensors per file.
 */
export const MAX_TENSORS = 100_000;
/** libtorch kernels index at most 25 dimensions; a longer shape is hostile, not a model. */
export const MAX_RANK = 64;
const METADATA_KEY = '__metadata__';

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  /** The `__metadata__` map; empty when the file has none. */
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Where the byte buffer starts in the file. */
  dataStart: number;
}

/** The file bytes for a record of tensors, exactly as the reference writer lays them out. */
export function serializeSafetensors(record: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(record);
  for (const name of names) checkWritableName(name, 'tensor name');
  const rank = (name: string): number => BY_DTYPE.get(record[name]!.dtype)!.rank;
  // Rust compares names as UTF-8 bytes, which differs from JS's UTF-16 order above U+FFFF.
  names.sort((a, b) => rank(b) - rank(a) || Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const members: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.entries(metadata).map(([k, v]) => {
      checkWritableName(k, 'metadata key');
      if (typeof v !== 'string') throw new SafetensorsError(`metadata '${k}': values must be strings, got ${typeof v}`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    members.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(',')}}`);
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = record[name]!;
    const raw = t.data();
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    const entry = { dtype: BY_DTYPE.get(t.dtype)!.code, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    // Built by hand: JSON.stringify of an object would move integer-like names to the front.
    members.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    blobs.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(`{${members.join(',')}}`, 'utf8');
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.length;
  }
  return out;
}

function checkWritableName(name: string, what: string): void {
  if (name === METADATA_KEY && what === 'tensor name') throw new SafetensorsError(`'${METADATA_KEY}' is reserved and cannot name a tensor`);
  // A lone surrogate has no UTF-8 encoding; it would be written as U+FFFD.
  if (Buffer.from(name, 'utf8').toString('utf8') !== name)
    throw new SafetensorsError(`${what} ${JSON.stringify(name)} is not valid Unicode`);
}

/** Parses safetensors bytes; `source` (a file name) starts every error message. */
export function parseSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsContents {
  const { entries, metadata, dataStart } = parseHeader(bytes, source);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) {
    // fromBytes copies, so the tensor does not keep the file's buffer alive.
    setOwn(tensors, e.name, torch.fromBytes(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.shape, e.dtype));
  }
  return { tensors, metadata };
}

function parseHeader(bytes: Uint8Array, source: string): Header {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: ${what}`);
  };
  const kind = torchFileKind(bytes);
  if (kind !== 'other')
    fail(
      `expected a safetensors file, found ${describeKind(kind)}${kind === 'torch.save' ? ' (io.loadWeights and --weights read both)' : ''}`,
    );
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const headerLength = Number(declared);
  if (headerLength > bytes.length - 8) fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    fail('the header is not valid UTF-8');
  }
  // Valid JSON that starts with '{' is an object.
  if (!text.startsWith('{')) fail(`the header must be a JSON object starting with '{', found ${JSON.stringify(text.slice(0, 16))}`);
  const tooMany = (): never => fail(`the header declares more than ${MAX_TENSORS} tensors, the most this reader accepts`);
  // __metadata__ is a member too, hence the one extra here; the exact count is checked after parsing.
  const scan = scanJsonKeys(text, MAX_TENSORS + 1);
  if (scan.topLevelKeys > MAX_TENSORS + 1) tooMany();
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  const duplicate = scan.duplicate;
  if (duplicate) {
    const where = duplicate.path.length === 0 ? '' : ` inside '${duplicate.path.join("' > '")}'`;
    fail(`the header names ${JSON.stringify(duplicate.key)} twice${where}`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value, fail);
    else if (entries.length === MAX_TENSORS) tooMany();
    else entries.push(checkEntry(name, value, dataLength, (what) => fail(`tensor '${name}': ${what}`)));
  }
  // The tensors must tile the byte buffer exactly: no overlaps, no holes, nothing after.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.begin < covered)
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor, which ends at ${covered}`);
    if (e.begin > covered) fail(`tensor '${e.name}': a gap of ${e.begin - covered} unused bytes precedes it (at ${covered}..${e.begin})`);
    covered = e.end;
  }
  if (covered !== dataLength)
    fail(`${dataLength - covered} bytes follow the last tensor (the tensors cover ${covered} of ${dataLength} data bytes)`);
  return { entries, metadata, dataStart };
}

function checkMetadata(value: unknown, fail: (what: string) => never): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${METADATA_KEY} is not an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as object)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} '${k}' is ${JSON.stringify(v)}, not a string`);
    setOwn(metadata, k, v as string);
  }
  return metadata;
}

function checkEntry(name: string, value: unknown, dataLength: number, fail: (what: string) => never): HeaderEntry {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`the entry is ${JSON.stringify(value)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  const known = typeof dtype === 'string' ? BY_CODE.get(dtype) : undefined;
  if (known === undefined) fail(`unknown dtype ${JSON.stringify(dtype)} (known: ${[...BY_CODE.keys()].join(', ')})`);
  if (known!.dtype === null) fail(`dtype ${known!.code} is valid safetensors but has no counterpart in this engine`);
  if (!Array.isArray(shape)) fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if ((shape as unknown[]).length > MAX_RANK)
    fail(`shape has ${(shape as unknown[]).length} dimensions, more than the ${MAX_RANK} this reader accepts`);
  if (!(shape as unknown[]).every(isIndex)) fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) fail(`data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data buffer (truncated file?)`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const needed = elements * known!.bytes;
  // The strides of an empty tensor are products of its other dimensions, so those must be addressable too.
  const strideSpan = (shape as number[]).reduce((a, b) => a * Math.max(b, 1), known!.bytes);
  if (!Number.isSafeInteger(needed) || !Number.isSafeInteger(strideSpan)) fail(`shape [${shape}] is too large to address`);
  if (end - begin !== needed)
    fail(`shape [${shape}] of ${known!.code} needs ${needed} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype: known!.dtype!, shape: shape as number[], begin, end };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// Plain assignment of '__proto__' would replace the prototype instead of adding an entry.
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Tensors and metadata of a safetensors file. */
export function readSafetensors(path: string): SafetensorsContents {
  return parseSafetensors(readBytes(path), path);
}

export function loadSafetensors(path: string): Record<string, Tensor> {
  return readSafetensors(path).tensors;
}

/** The `__metadata__` of a file (validated like a full load, but no tensor is created). */
export function loadSafetensorsMetadata(path: string): Record<string, string> {
  return parseHeader(readBytes(path), path).metadata;
}

/** Writes a record of tensors atomically (temp file, fsync, rename). */
export function saveSafetensors(path: string, record: Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(record, metadata));
}
