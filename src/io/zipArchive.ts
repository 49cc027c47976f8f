// The zip container of PyTorch's files (torch.save since 1.6, TorchScript):
// every record stored uncompressed under one top folder ('archive/data.pkl',
// 'archive/data/0', ...). The structure is checked here, in full, before libtorch
// sees the bytes: libtorch's zip reader trusts the sizes and offsets the central
// directory declares, so a record reaching past the file must never get to it.
import { readFileSync, statSync } from 'node:fs';

/** A file of PyTorch's, or not, as its bytes say. */
export type TorchFileKind = 'torch.save' | 'torchscript' | 'legacy torch.save' | 'zip' | 'other';

/** Damaged, hostile or unexpected PyTorch files; the message starts with the file. */
export class TorchFileError extends Error {
  override name = 'TorchFileError';
}

/** Records per archive; real checkpoints have one per tensor storage (hundreds to a few thousand). */
export const MAX_RECORDS = 100_000;

export interface ZipRecord {
  /** Where the record's bytes start in the file. */
  start: number;
  /** Its size once read (inflated, for a deflated record). */
  size: number;
  deflated: boolean;
}

export interface ZipArchive {
  /** The top folder every record lies under ('archive' for torch.save, the file's stem for others). */
  prefix: string;
  /** Records by their name below the top folder ('data.pkl', 'data/0', ...). */
  records: Map<string, ZipRecord>;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const ZIP64_EXTRA = 0x0001;
const STORED = 0;
const DEFLATED = 8;
/** Deflate cannot expand more than about 1032:1. */
const MAX_DEFLATE_RATIO = 1032;
const SATURATED_16 = 0xffff;
const SATURATED_32 = 0xffffffff;
/** A zip's end record is 22 bytes plus a comment of at most 65,535. */
const END_SEARCH = 22 + 0xffff;

/** The PyTorch file kind of `bytes` (by content, never by file name). */
export function torchFileKind(bytes: Uint8Array): TorchFileKind {
  if (bytes.length >= 4 && readU32(bytes, 0) === LOCAL_HEADER) {
    let archive: ZipArchive;
    try {
      archive = readZipArchive(bytes, '<bytes>');
    } catch {
      return 'zip';
    }
    if (archive.records.has('constants.pkl') || [...archive.records.keys()].some((n) => n.startsWith('code/'))) return 'torchscript';
    return archive.records.has('data.pkl') ? 'torch.save' : 'zip';
  }
  // The legacy format is a bare pickle (protocol 2) that starts with a 10-byte magic number (LONG1 of 10 bytes).
  return bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a
    ? 'legacy torch.save'
    : 'other';
}

/** What a file of this kind is, for messages. */
export function describeKind(kind: TorchFileKind): string {
  switch (kind) {
    case 'torch.save':
      return 'a torch.save archive (.pt/.pth)';
    case 'torchscript':
      return 'a TorchScript archive (torch.jit.save)';
    case 'legacy torch.save':
      return 'a torch.save file in the legacy format of PyTorch < 1.6 (re-save it with a newer PyTorch)';
    case 'zip':
      return 'a zip archive that is neither a torch.save nor a TorchScript file';
    case 'other':
      return 'not a PyTorch file';
  }
}

/** The bytes of a file, as the other readers of this folder read them. */
export function readFileBytes(path: string): Uint8Array {
  if (statSync(path).isDirectory()) throw new TorchFileError(`${path}: is a directory, not a file`);
  return readFileSync(path);
}

/**
 * Parses and checks the central directory of a PyTorch zip: every record stored
 * (not compressed), its local header and bytes inside the file and before the
 * directory, names unique and under one top folder. Throws TorchFileError.
 */
export function readZipArchive(bytes: Uint8Array, source: string): ZipArchive {
  const fail = (what: string): never => {
    throw new TorchFileError(`${source}: ${what}`);
  };
  const end = findEndOfDirectory(bytes);
  if (end < 0) fail('not a complete zip archive (no end-of-directory record; truncated?)');
  let count = readU16(bytes, end + 10);
  let directorySize = readU32(bytes, end + 12);
  let directoryStart = readU32(bytes, end + 16);
  let directoryLimit = end;
  if (count === SATURATED_16 || directorySize === SATURATED_32 || directoryStart === SATURATED_32 || hasZip64Locator(bytes, end)) {
    const locator = end - 20;
    if (locator < 0 || readU32(bytes, locator) !== ZIP64_END_LOCATOR) fail('the zip64 end-of-directory locator is missing');
    const zip64 = readU64(bytes, locator + 8);
    if (zip64 === undefined || zip64 + 56 > locator || readU32(bytes, zip64) !== ZIP64_END)
      fail('the zip64 end-of-directory record lies outside the file');
    count = readU64(bytes, zip64! + 32) ?? fail('the zip64 record count is too large');
    directorySize = readU64(bytes, zip64! + 40) ?? fail('the zip64 directory size is too large');
    directoryStart = readU64(bytes, zip64! + 48) ?? fail('the zip64 directory offset is too large');
    directoryLimit = zip64!;
  }
  if (count > MAX_RECORDS) fail(`declares ${count} records; at most ${MAX_RECORDS} are read`);
  if (directoryStart + directorySize > directoryLimit) {
    fail(`the central directory (${directorySize} bytes at ${directoryStart}) reaches past the end of the file (${bytes.length} bytes)`);
  }
  const records = new Map<string, ZipRecord>();
  let prefix: string | undefined;
  let at = directoryStart;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directoryStart + directorySize || readU32(bytes, at) !== CENTRAL_HEADER) fail(`central directory entry ${i} is damaged`);
    const method = readU16(bytes, at + 10);
    let compressed = readU32(bytes, at + 20);
    let size = readU32(bytes, at + 24);
    const nameLength = readU16(bytes, at + 28);
    const extraLength = readU16(bytes, at + 30);
    const commentLength = readU16(bytes, at + 32);
    let local = readU32(bytes, at + 42);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > directoryStart + directorySize) fail(`central directory entry ${i} reaches past the directory`);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    if (size === SATURATED_32 || compressed === SATURATED_32 || local === SATURATED_32) {
      const values =
        zip64Extra(bytes, at + 46 + nameLength, extraLength) ?? fail(`record '${name}': its zip64 sizes are missing or too large`);
      const take = (value: number): number =>
        value === SATURATED_32 ? (values.shift() ?? fail(`record '${name}': its zip64 sizes are missing`)) : value;
      size = take(size);
      compressed = take(compressed);
      local = take(local);
    }
    if (method === STORED) {
      if (compressed !== size) fail(`record '${name}' declares ${size} bytes but stores ${compressed}`);
    } else if (method === DEFLATED) {
      // TorchScript deflates its code; what inflating may allocate is bounded by deflate's own ratio.
      if (size > compressed * MAX_DEFLATE_RATIO + 64)
        fail(`record '${name}' declares ${size} bytes inflated from ${compressed}, more than deflate can produce`);
    } else fail(`record '${name}' uses compression method ${method}; PyTorch stores records (or deflates TorchScript code)`);
    if (local + 30 > directoryStart || readU32(bytes, local) !== LOCAL_HEADER)
      fail(`record '${name}': its local header is missing or outside the file`);
    const start = local + 30 + readU16(bytes, local + 26) + readU16(bytes, local + 28);
    if (start + compressed > directoryStart) {
      fail(`record '${name}' declares ${compressed} bytes at ${start}, past the end of the file's data (${directoryStart} bytes)`);
    }
    const slash = name.indexOf('/');
    if (slash <= 0) fail(`record '${name}' is not inside a top folder`);
    const top = name.slice(0, slash);
    prefix ??= top;
    if (top !== prefix) fail(`records lie under two top folders ('${prefix}' and '${top}')`);
    const inner = name.slice(slash + 1);
    if (records.has(inner)) fail(`record '${name}' appears twice`);
    records.set(inner, { start, size, deflated: method === DEFLATED });
    at = next;
  }
  if (prefix === undefined) fail('the archive is empty');
  return { prefix: prefix!, records };
}

function findEndOfDirectory(bytes: Uint8Array): number {
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - END_SEARCH); at--) {
    if (readU32(bytes, at) === END_OF_DIRECTORY && at + 22 + readU16(bytes, at + 20) === bytes.length) return at;
  }
  return -1;
}

const hasZip64Locator = (bytes: Uint8Array, end: number): boolean => end >= 20 && readU32(bytes, end - 20) === ZIP64_END_LOCATOR;

/** The 64-bit values of a zip64 extra field, in order; undefined when absent or beyond 2^53. */
function zip64Extra(bytes: Uint8Array, start: number, length: number): number[] | undefined {
  for (let at = start; at + 4 <= start + length;) {
    const id = readU16(bytes, at);
    const size = readU16(bytes, at + 2);
    if (at + 4 + size > start + length) return undefined;
    if (id === ZIP64_EXTRA) {
      const values: number[] = [];
      for (let v = at + 4; v + 8 <= at + 4 + size; v += 8) {
        const value = readU64(bytes, v);
        if (value === undefined) return undefined;
        values.push(value);
      }
      return values;
    }
    at += 4 + size;
  }
  return undefined;
}

const readU16 = (b: Uint8Array, at: number): number => (at + 2 <= b.length ? b[at]! | (b[at + 1]! << 8) : -1);
const readU32 = (b: Uint8Array, at: number): number =>
  at + 4 <= b.length && at >= 0 ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 2 ** 24 : -1;
/** A little-endian 64-bit value, undefined when not a safe integer. */
function readU64(b: Uint8Array, at: number): number | undefined {
  if (at < 0 || at + 8 > b.length) return undefined;
  const high = readU32(b, at + 4);
  return high >= 2 ** 21 ? undefined : high * 2 ** 32 + readU32(b, at);
}
