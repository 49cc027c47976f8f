// The safetensors format: an 8-byte little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}},
// then the tensor bytes (little-endian, row-major), offsets relative to the
// byte after the header. Reading validates everything before touching data.
import { readFileSync } from 'node:fs';
import * as torch from '../engine/torch.js';
import type { Tensor } from '../engine/tensor.js';
import { bytesPerElement, type DType } from '../engine/dtype.js';
import { writeFileAtomic } from './atomic.js';

const TO_FILE: Partial<Record<DType, string>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_FILE = new Map(Object.entries(TO_FILE).map(([d, f]) => [f, d as DType]));

/** Headers beyond this are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * The file bytes of a record of tensors, laid out as the reference writer does:
 * larger element types first, then by name.
 */
export function serializeSafetensors(record: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const size = (name: string): number => bytesPerElement[record[name]!.dtype];
  const names = Object.keys(record).sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = record[name]!;
    const code = TO_FILE[t.dtype];
    if (!code) throw new SafetensorsError(`tensor '${name}': dtype ${t.dtype} cannot be stored in safetensors`);
    const raw = t.data();
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padding = (8 - (json.length % 8)) % 8; // the data starts 8-byte aligned, padded with spaces
  if (padding > 0) json = Buffer.concat([json, Buffer.alloc(padding, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Parses safetensors bytes; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source = '<bytes>'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLength > BigInt(bytes.length - 8)) fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, Entry][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as object)) {
        if (typeof v !== 'string') fail(`__metadata__['${k}'] is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push([name, checkEntry(name, value, dataLength, fail)]);
  }
  // Tensors must tile the data buffer exactly: no overlaps, no holes.
  const sorted = [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let expected = 0;
  for (const [name, e] of sorted) {
    if (e.data_offsets[0] < expected) fail(`tensor '${name}' overlaps the previous tensor (starts at ${e.data_offsets[0]}, previous ends at ${expected})`);
    if (e.data_offsets[0] > expected) fail(`gap of ${e.data_offsets[0] - expected} bytes before tensor '${name}'`);
    expected = e.data_offsets[1];
  }
  if (expected !== dataLength) fail(`the tensors cover ${expected} data bytes but the file holds ${dataLength}`);
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of entries) {
    const [begin, end] = e.data_offsets;
    // Copy into an aligned buffer: the data of a tensor need not be aligned in the file.
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors[name] = torch.fromBytes(copy, e.shape, FROM_FILE.get(e.dtype)!);
  }
  return { tensors, metadata };
}

function checkEntry(name: string, value: unknown, dataLength: number, fail: (what: string) => never): Entry {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`tensor '${name}': entry is not an object`);
  const e = value as Partial<Entry>;
  if (typeof e.dtype !== 'string' || !FROM_FILE.has(e.dtype)) {
    fail(`tensor '${name}': unknown dtype ${JSON.stringify(e.dtype)} (expected one of ${[...FROM_FILE.keys()].join(', ')})`);
  }
  if (!Array.isArray(e.shape) || e.shape.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    fail(`tensor '${name}': shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
  }
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || o.some((v) => !Number.isSafeInteger(v) || v < 0) || o[0]! > o[1]!) {
    fail(`tensor '${name}': data_offsets ${JSON.stringify(o)} is not [begin, end] with 0 <= begin <= end`);
  }
  if (o![1]! > dataLength) fail(`tensor '${name}': data_offsets [${o}] run past the ${dataLength} data bytes (file truncated?)`);
  const numel = e.shape!.reduce((a, b) => a * b, 1);
  const need = numel * bytesPerElement[FROM_FILE.get(e.dtype!)!];
  if (o![1]! - o![0]! !== need) fail(`tensor '${name}': shape [${e.shape}] of ${e.dtype} needs ${need} bytes, data_offsets give ${o![1]! - o![0]!}`);
  return e as Entry;
}

export function loadSafetensors(path: string): Record<string, Tensor> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseSafetensors(bytes, path).tensors;
}

export function loadSafetensorsMetadata(path: string): Record<string, string> {
  return parseSafetensors(readFileSync(path), path).metadata;
}

/** Writes a record of tensors atomically (temp file + rename). */
export function saveSafetensors(path: string, record: Record<string, Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(record, metadata));
}
