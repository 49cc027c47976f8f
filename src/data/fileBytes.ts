// Reads a whole data file, transparently gunzipping it when it starts with the
// gzip magic bytes (IDX files are distributed both gzipped and raw).
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataFileError } from './dataFileError.js';

const GZIP_MAGIC = [0x1f, 0x8b];

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

/** The file's bytes, gunzipped when the file is gzip-compressed. */
export function readMaybeGzippedBytes(file: string): Uint8Array {
  const bytes = readRawBytes(file);
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataFileError(file, `broken gzip stream, probably truncated (${(err as Error).message})`);
  }
}
