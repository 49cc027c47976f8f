// Builders for tiny data files in each exact on-disk format, written to temp dirs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode } from 'jpeg-js';

export function writeFile(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** Deterministic pseudo-random bytes (a fixed LCG), so fixtures are distinct yet reproducible. */
export function patternBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

function idxHeader(magic: number, dims: number[]): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return header;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** IDX file bytes: magic, dims, then the body (gzipped when asked). */
export function idxBytes(magic: number, dims: number[], body: Uint8Array, gzip = false): Uint8Array {
  const bytes = concat(idxHeader(magic, dims), body);
  return gzip ? gzipSync(bytes) : bytes;
}

/**
 * A gzip bomb: the gzipped IDX file `idxBytes` describes, followed by `mebibytes`
 * more gzip members of 1 MiB of zeros each (readers inflate concatenated members
 * as one stream). Each member is ~1 KiB, so the bomb is built without allocating what it inflates to.
 */
export function idxGzipBomb(magic: number, dims: number[], body: Uint8Array, mebibytes: number): Uint8Array {
  const zeros = gzipSync(new Uint8Array(1 << 20));
  return concat(idxBytes(magic, dims, body, true), ...new Array<Uint8Array>(mebibytes).fill(zeros));
}

/** CIFAR binary records: each record is its label bytes then 3072 pixel bytes. */
export function cifarBytes(labels: number[][], pixels: Uint8Array): Uint8Array {
  const records = labels.map((label, i) => concat(Uint8Array.from(label), pixels.subarray(i * 3072, (i + 1) * 3072)));
  return concat(...records);
}

/** A 64x64 RGB JPEG (via jpeg-js) from CHW pixels. */
export function rgbJpeg(chw: Uint8Array, size = 64): Uint8Array {
  const plane = size * size;
  const rgba = new Uint8Array(4 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgba[4 * p + c] = chw[c * plane + p]!;
    rgba[4 * p + 3] = 255;
  }
  return encode({ width: size, height: size, data: rgba }, 100).data;
}

/** A smooth CHW test image (JPEG keeps smooth images close to the source). */
export function smoothImage(seed: number, size = 64): Uint8Array {
  const out = new Uint8Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) out[(c * size + y) * size + x] = ((seed * 40 + c * 60 + 2 * y + x) % 200) + 20;
    }
  }
  return out;
}
