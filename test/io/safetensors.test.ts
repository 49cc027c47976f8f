import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { tempDir } from '../helpers/tempDir.js';

/** The bytes the format prescribes: u64 LE header length, header JSON padded with spaces to 8, data. */
function expectedFile(headerJson: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(headerJson, 'utf8');
  const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([length, padded, data]);
}

function assertSameTensors(actual: Record<string, Tensor>, expected: Record<string, Tensor>): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  for (const [k, v] of Object.entries(expected)) {
    assert.equal(actual[k]!.dtype, v.dtype, k);
    assert.deepEqual(actual[k]!.shape, v.shape, k);
    assert.deepEqual(Buffer.from(actual[k]!.data().buffer), Buffer.from(v.data().buffer), `${k}: same bytes`);
  }
}

test('every dtype, empty and 0-d tensors, odd names and non-contiguous tensors round-trip through a file', () => {
  torch.manualSeed(0);
  const record: Record<string, Tensor> = {
    f64: torch.randn([4], { dtype: 'float64' }),
    f32: torch.randn([2, 3]),
    f16: torch.randn([3]).to('float16'),
    bf16: torch.randn([2, 2]).to('bfloat16'),
    i64: torch.tensor(new BigInt64Array([1n, -2n, 1n << 60n])),
    i32: torch.tensor(new Int32Array([7, -8])),
    i16: torch.tensor(new Int16Array([-300, 300])),
    i8: torch.tensor(new Int8Array([-128, 127])),
    u8: torch.tensor(new Uint8Array([0, 255, 9])),
    bool: torch.tensor([true, false, true], { dtype: 'bool' }),
    empty: torch.zeros([0, 3]),
    scalar: torch.tensor(3.5, []),
    transposed: torch.arange(6).reshape([2, 3]).transpose(0, 1),
    '10': torch.ones([1]),
    'über.weight': torch.ones([1]),
  };
  // A name that plain assignment would turn into a prototype change.
  Object.defineProperty(record, '__proto__', { value: torch.ones([2]), enumerable: true });
  const path = join(tempDir(), 'all.safetensors');
  io.saveSafetensors(path, record, { format: 'pt', note: 'ä "quoted"' });
  const back = io.loadSafetensors(path);
  assertSameTensors(back, record);
  assert.deepEqual(back['transposed']!.toNumbers(), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(io.loadSafetensorsMetadata(path), { format: 'pt', note: 'ä "quoted"' });
  const inMemory = io.parseSafetensors(io.serializeSafetensors(record), 'memory');
  assertSameTensors(inMemory.tensors, record);
  assert.deepEqual(inMemory.metadata, {});
});

test('bytes are exactly what the format prescribes: dtype order, then name; metadata first; padding', () => {
  const record = {
    b: torch.tensor(new Int32Array([1, -2])),
    a: torch.tensor([0.5], [1]),
    w: torch.tensor([0.25], [1], { dtype: 'float64' }),
    idx: torch.tensor(new BigInt64Array([3n])),
    mask: torch.tensor([true, false], { dtype: 'bool' }),
    '9': torch.tensor(new Uint8Array([9])),
    '10': torch.tensor(new Uint8Array([10])),
    h: torch.tensor([1], [1]).to('float16'),
    g: torch.tensor([1], [1]).to('bfloat16'),
  };
  // Descending dtype rank (I64, F64, F32, I32, BF16, F16, U8, BOOL), then names by bytes ("10" < "9").
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"idx":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
    '"w":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
    '"a":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
    '"b":{"dtype":"I32","shape":[2],"data_offsets":[20,28]},' +
    '"g":{"dtype":"BF16","shape":[1],"data_offsets":[28,30]},' +
    '"h":{"dtype":"F16","shape":[1],"data_offsets":[30,32]},' +
    '"10":{"dtype":"U8","shape":[1],"data_offsets":[32,33]},' +
    '"9":{"dtype":"U8","shape":[1],"data_offsets":[33,34]},' +
    '"mask":{"dtype":"BOOL","shape":[2],"data_offsets":[34,36]}}';
  const data = Buffer.alloc(36);
  data.writeBigInt64LE(3n, 0);
  data.writeDoubleLE(0.25, 8);
  data.writeFloatLE(0.5, 16);
  data.writeInt32LE(1, 20);
  data.writeInt32LE(-2, 24);
  data.writeUInt16LE(0x3f80, 28); // bfloat16 1.0
  data.writeUInt16LE(0x3c00, 30); // float16 1.0
  data.set([10, 9, 1, 0], 32);
  const bytes = Buffer.from(io.serializeSafetensors(record, { format: 'pt' }));
  assert.ok(bytes.equals(expectedFile(header, data)), `got ${bytes.toString('latin1')}`);
  assert.equal(bytes.readBigUInt64LE(0) % 8n, 0n, 'the data starts 8-byte aligned');
});

test('the examples of the reference implementation come out byte for byte', () => {
  const attn = torch.arange(6, undefined, 1, { dtype: 'float32' }).reshape([1, 2, 3]);
  const data = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) data.writeFloatLE(i, 4 * i);
  const one = Buffer.from(io.serializeSafetensors({ 'attn.0': attn }));
  assert.ok(one.equals(expectedFile('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', data)));
  assert.equal(one.readBigUInt64LE(0), 64n);
  const empty = Buffer.from(io.serializeSafetensors({}));
  assert.ok(empty.equals(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32])));
  const onlyMetadata = Buffer.from(io.serializeSafetensors({}, { framework: 'pt' }));
  assert.ok(onlyMetadata.equals(expectedFile('{"__metadata__":{"framework":"pt"}}')));
  assert.equal(onlyMetadata.readBigUInt64LE(0), 40n);
});

test('what cannot be written is refused before anything is written', () => {
  assert.throws(() => io.serializeSafetensors({ __metadata__: torch.ones([1]) }), /'__metadata__' is reserved/);
  assert.throws(() => io.serializeSafetensors({ ['bad\ud800']: torch.ones([1]) }), /tensor name "bad\\ud800" is not valid Unicode/);
  assert.throws(() => io.serializeSafetensors({}, { n: 3 as unknown as string }), /metadata 'n': values must be strings/);
});
