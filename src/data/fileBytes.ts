// Reads a whole data file, transparently gunzipping it when it starts with the
// gzip magic bytes (IDX files are distributed both gzipped and raw).
// Inflation is always bounded by what the caller can accept: a small gzip
// file can inflate to gigabytes, so the size is checked while inflating, not after.
import { existsSync, readFileSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { DataFileError } from './dataFileError.js';

const GZIP_MAGIC = [0x1f, 0x8b];
/** Compressed bytes inflated to peek at a header: deflate expands at most ~1032x, so this yields at most ~1 MB. */
const PEEK_INPUT_BYTES = 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/** The file's bytes, or a DataFileError naming the file when it is missing or unreadable. */
export function readRawBytes(file: string): Uint8Array {
  if (!existsSync(file)) throw new DataFileError(file, 'file not found');
  try {
    return readFileSync(file);
  } catch (err) {
    throw new DataFileError(file, `cannot be read (${(err as Error).message})`);
  }
}

/** A UTF-8 text file (listings such as wnids.txt), or a DataFileError naming it. */
export function readTextFile(file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readRawBytes(file));
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(file, 'is not UTF-8 text');
  }
}

/**
 * The inflated gzip stream `bytes` of `file`, refused with a DataFileError once
 * it passes maxBytes (`limit` says where that bound comes from).
 */
export function gunzipBounded(file: string, bytes: Uint8Array, maxBytes: number, limit: string): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFileError(file, `the gzip stream inflates to more than ${maxBytes} bytes, ${limit}; refused before inflating further`);
    }
    throw new DataFileError(file, `broken gzip stream, probably truncated (${(err as Error).message})`);
  }
}

/** The first inflated bytes of a gzip stream (some, not all: enough for a file header), at a bounded cost. */
export function gunzipPrefix(file: string, bytes: Uint8Array): Uint8Array {
  try {
    return gunzipSync(bytes.subarray(0, PEEK_INPUT_BYTES), { finishFlush: constants.Z_SYNC_FLUSH });
  } catch (err) {
    throw new DataFileError(file, `broken gzip stream (${(err as Error).message})`);
  }
}

/** The file's bytes, gunzipped (to at most maxBytes, see gunzipBounded) when the file is gzip-compressed. */
export function readMaybeGzippedBytes(file: string, maxBytes: number, limit: string): Uint8Array {
  const bytes = readRawBytes(file);
  return isGzip(bytes) ? gunzipBounded(file, bytes, maxBytes, limit) : bytes;
}
