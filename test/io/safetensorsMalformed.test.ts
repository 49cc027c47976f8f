// Every kind of damaged or hostile file gives a SafetensorsError naming the
// file, the tensor where there is one, and what is wrong; nothing crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import { tempDir } from '../helpers/tempDir.js';

/** A file with this header text (unpadded) and data. */
function file(header: string | Buffer, data: Buffer = Buffer.alloc(16)): Buffer {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([length, h, data]);
}

const entry = (name: string, dtype: unknown, shape: unknown, offsets: unknown): string =>
  `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: offsets })}`;
const f32 = (name: string, count: number, begin: number): string => entry(name, 'F32', [count], [begin, begin + 4 * count]);

const good = Buffer.from(io.serializeSafetensors({ t: torch.tensor([1, 2, 3, 4], [2, 2]) }));
const headerLength = Number(good.readBigUInt64LE(0));
const withLength = (n: bigint): Buffer => {
  const b = Buffer.from(good);
  b.writeBigUInt64LE(n, 0);
  return b;
};

// [case, file bytes, expected message (after the file name)]
const cases: [string, Buffer, RegExp][] = [
  ['empty file', Buffer.alloc(0), /the file is 0 bytes, shorter than the 8-byte header length/],
  ['short file', Buffer.alloc(5), /the file is 5 bytes, shorter than the 8-byte header length/],
  ['absurd header length', withLength(1n << 62n), /header length 4611686018427387904 exceeds the 100000000-byte limit/],
  [
    'header past the end',
    withLength(BigInt(good.length)),
    new RegExp(`header length ${good.length} runs past the end of the ${good.length}-byte file`),
  ],
  ['not UTF-8', file(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /the header is not valid UTF-8/],
  ['invalid JSON', file('{"t": '), /the header is not valid JSON/],
  ['not an object', file('[1, 2]'), /the header must be a JSON object starting with '\{', found "\[1, 2\]"/],
  ['leading space', file(` {${f32('t', 4, 0)}}`), /must be a JSON object starting with '\{'/],
  ['duplicate tensor', file(`{${f32('t', 2, 0)},${f32('t', 2, 8)}}`), /the header names "t" twice$/],
  [
    'duplicate field',
    file(`{"t":{"dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16]}}`),
    /the header names "dtype" twice inside 't'/,
  ],
  ['metadata not an object', file(`{"__metadata__":["a"],${f32('t', 4, 0)}}`), /__metadata__ is not an object of strings/],
  ['metadata value not a string', file(`{"__metadata__":{"epoch":3},${f32('t', 4, 0)}}`), /__metadata__ 'epoch' is 3, not a string/],
  ['entry not an object', file(`{"t":[1,2]}`), /tensor 't': the entry is \[1,2\], not an object/],
  ['unknown dtype', file(`{${entry('t', 'F8', [4], [0, 16])}}`), /tensor 't': unknown dtype "F8"/],
  ['dtype missing', file(`{${entry('t', undefined, [4], [0, 16])}}`), /tensor 't': unknown dtype undefined/],
  [
    'dtype without engine counterpart',
    file(`{${entry('t', 'U16', [8], [0, 16])}}`),
    /tensor 't': dtype U16 is valid safetensors but has no counterpart in this engine/,
  ],
  ['negative dimension', file(`{${entry('t', 'F32', [-4], [0, 16])}}`), /tensor 't': shape \[-4\] is not a list of non-negative integers/],
  ['fractional dimension', file(`{${entry('t', 'F32', [2.5], [0, 16])}}`), /tensor 't': shape \[2\.5\] is not a list/],
  ['dimension as text', file(`{${entry('t', 'F32', ['4'], [0, 16])}}`), /tensor 't': shape \["4"\] is not a list/],
  ['shape not a list', file(`{${entry('t', 'F32', 4, [0, 16])}}`), /tensor 't': shape 4 is not a list/],
  ['offsets of three', file(`{${entry('t', 'F32', [4], [0, 8, 16])}}`), /tensor 't': data_offsets \[0,8,16\] is not \[begin, end\]/],
  [
    'offsets reversed',
    file(`{${entry('t', 'F32', [0], [16, 0])}}`),
    /tensor 't': data_offsets \[16,0\] is not \[begin, end\] with 0 <= begin <= end/,
  ],
  ['offsets missing', file(`{${entry('t', 'F32', [4], undefined)}}`), /tensor 't': data_offsets undefined is not/],
  [
    'offsets past the data',
    file(`{${entry('t', 'F32', [8], [0, 32])}}`),
    /tensor 't': data_offsets \[0, 32\] run past the 16-byte data buffer/,
  ],
  [
    'byte length mismatch',
    file(`{${entry('t', 'F32', [3], [0, 16])}}`),
    /tensor 't': shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 16\] hold 16/,
  ],
  [
    'shape overflow',
    file(`{${entry('t', 'F64', [2 ** 40, 2 ** 40], [0, 16])}}`),
    /tensor 't': shape \[1099511627776,1099511627776\] is too large to address/,
  ],
  [
    'empty shape whose strides overflow',
    file(`{${entry('t', 'F64', [0, 2 ** 40, 2 ** 40], [0, 0])}}`, Buffer.alloc(0)),
    /tensor 't': shape \[0,1099511627776,1099511627776\] is too large to address/,
  ],
  [
    'too many dimensions',
    file(`{${entry('t', 'F32', new Array(io.MAX_RANK + 1).fill(1), [0, 4])}}`, Buffer.alloc(4)),
    new RegExp(`tensor 't': shape has ${io.MAX_RANK + 1} dimensions, more than the ${io.MAX_RANK}`),
  ],
  [
    'overlap',
    file(`{${f32('a', 4, 0)},${f32('b', 2, 8)}}`),
    /tensor 'b': data_offsets \[8, 16\] overlap the previous tensor, which ends at 16/,
  ],
  ['gap at the start', file(`{${f32('a', 2, 8)}}`), /tensor 'a': a gap of 8 unused bytes precedes it \(at 0\.\.8\)/],
  ['gap between', file(`{${f32('a', 1, 0)},${f32('b', 2, 8)}}`), /tensor 'b': a gap of 4 unused bytes precedes it \(at 4\.\.8\)/],
  ['trailing bytes', file(`{${f32('a', 2, 0)}}`), /8 bytes follow the last tensor \(the tensors cover 8 of 16 data bytes\)/],
  [
    'truncated data',
    good.subarray(0, 8 + headerLength + 10),
    /tensor 't': data_offsets \[0, 16\] run past the 10-byte data buffer \(truncated file\?\)/,
  ],
];

test('malformed files each give their clear error', () => {
  const dir = tempDir();
  for (const [name, bytes, message] of cases) {
    const path = join(dir, `${name.replace(/ /g, '-')}.safetensors`);
    writeFileSync(path, bytes);
    for (const load of [io.loadSafetensors, io.loadSafetensorsMetadata]) {
      assert.throws(
        () => load(path),
        (e: Error) => e instanceof io.SafetensorsError && e.message.startsWith(`${path}: `) && message.test(e.message),
        `${name}: expected ${message}, got: ${(() => {
          try {
            load(path);
            return 'no error';
          } catch (e) {
            return (e as Error).message;
          }
        })()}`,
      );
    }
    assert.throws(
      () => io.parseSafetensors(bytes, 'in memory'),
      (e: Error) => e.message.startsWith('in memory: ') && message.test(e.message),
      name,
    );
  }
});

test('a missing file names the file and the reason', () => {
  const path = join(tempDir(), 'missing.safetensors');
  assert.throws(
    () => io.loadSafetensors(path),
    (e: Error) => e instanceof io.SafetensorsError && e.message === `${path}: cannot read (ENOENT)`,
  );
});

test('the valid variants the format allows are accepted', () => {
  // Unpadded header, several empty tensors at one offset, tensors listed out of data order.
  const bytes = file(
    `{${f32('late', 2, 8)},${entry('none', 'F32', [0, 5], [0, 0])},${entry('also', 'I64', [0], [0, 0])},${f32('early', 2, 0)}}`,
  );
  const { tensors } = io.parseSafetensors(bytes);
  assert.deepEqual(Object.keys(tensors).sort(), ['also', 'early', 'late', 'none']);
  assert.deepEqual(tensors['none']!.shape, [0, 5]);
  assert.equal(tensors['also']!.dtype, 'int64');
});

/** A header of `count` empty tensors, the cheapest way to declare many. */
function emptyTensors(count: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(entry(`t${i}`, 'F32', [0], [0, 0]));
  return file(`{${parts.join(',')}}`, Buffer.alloc(0));
}

test('a header declaring more tensors than the limit is refused before JSON.parse allocates them', () => {
  // One over the limit still parses (it may include __metadata__), but creates no tensor.
  assert.throws(
    () => io.parseSafetensors(emptyTensors(io.MAX_TENSORS + 1), 'one.safetensors'),
    /^SafetensorsError: one.safetensors: the header declares more than/,
  );
  const bytes = emptyTensors(io.MAX_TENSORS + 2);
  const parse = JSON.parse;
  let longestParsed = 0;
  JSON.parse = ((text: string, reviver?: (key: string, value: unknown) => unknown) => {
    longestParsed = Math.max(longestParsed, text.length);
    return parse(text, reviver);
  }) as typeof JSON.parse;
  try {
    assert.throws(
      () => io.parseSafetensors(bytes, 'many.safetensors'),
      (e: Error) =>
        e instanceof io.SafetensorsError &&
        e.message === `many.safetensors: the header declares more than ${io.MAX_TENSORS} tensors, the most this reader accepts`,
    );
  } finally {
    JSON.parse = parse;
  }
  assert.ok(longestParsed < 1000, `JSON.parse saw ${longestParsed} characters; only single keys should be decoded`);
  // __metadata__ does not count as a tensor.
  const withMetadata = file(`{"__metadata__":{"a":"b"},${entry('t', 'F32', [0], [0, 0])}}`, Buffer.alloc(0));
  assert.deepEqual(Object.keys(io.parseSafetensors(withMetadata).tensors), ['t']);
});
