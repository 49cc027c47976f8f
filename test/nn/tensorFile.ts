// Moves whole state dicts between this process and the PyTorch oracle through
// a temporary binary file (JSON would be far too slow for 11M-parameter models).
// Layout: 8-byte little-endian header length, JSON header {name: {dtype, shape, offset}}, raw bytes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Tensor, torch } from '../../src/index.js';
import type { DType } from '../../src/engine/dtype.js';

interface Entry {
  dtype: DType;
  shape: number[];
  offset: number;
}

export function writeTensors(path: string, tensors: Record<string, Tensor>): void {
  const header: Record<string, Entry> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = t.data();
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, offset };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([length, json, ...chunks]));
}

/** Reads a file written by writeTensors or by write_tensors of test/oracles/oracle_io.py; keys keep the file's order. */
export function readTensors(path: string): Record<string, Tensor> {
  const raw = readFileSync(path);
  const headerLength = Number(raw.readBigUInt64LE(0));
  const header = JSON.parse(raw.subarray(8, 8 + headerLength).toString()) as Record<string, Entry>;
  const base = 8 + headerLength;
  const out: Record<string, Tensor> = {};
  for (const [name, { dtype, shape, offset }] of Object.entries(header)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const bytesPer = torch.empty([0], { dtype }).data().BYTES_PER_ELEMENT;
    out[name] = torch.fromBytes(raw.subarray(base + offset, base + offset + count * bytesPer), shape, dtype);
  }
  return out;
}

/** Runs fn with a fresh temporary directory, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'd2r-nn-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
