// torch.save archives: what d2r writes torch.load reads, what PyTorch writes
// d2r reads (views of shared storages included), and what is not a dict of
// tensors, or is damaged or hostile, is refused with an error naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { torch, io } from '../../src/index.js';
import { encodeTensorDict, type PickledTensor } from '../../src/io/pickle.js';
import { pytorch } from '../helpers/oracle.js';
import { tempDir } from '../helpers/tempDir.js';

/** A little-endian record of `length` bytes with the given [offset, value, bytes] fields. */
function fields(length: number, values: [at: number, value: number, bytes: 2 | 4][]): Buffer {
  const b = Buffer.alloc(length);
  for (const [at, value, bytes] of values) {
    if (bytes === 2) b.writeUInt16LE(value, at);
    else b.writeUInt32LE(value, at);
  }
  return b;
}

/** A stored (uncompressed) zip of the records, each under the top folder 'archive/', as torch.save lays them out. */
function zipOf(records: Record<string, Uint8Array>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [inner, data] of Object.entries(records)) {
    const name = Buffer.from(`archive/${inner}`);
    const crc = crc32(data);
    const local = fields(30, [
      [0, 0x04034b50, 4],
      [14, crc, 4],
      [18, data.length, 4],
      [22, data.length, 4],
      [26, name.length, 2],
    ]);
    const central = fields(46, [
      [0, 0x02014b50, 4],
      [16, crc, 4],
      [20, data.length, 4],
      [24, data.length, 4],
      [28, name.length, 2],
      [42, offset, 4],
    ]);
    locals.push(local, name, Buffer.from(data));
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const count = centrals.length / 2;
  const end = fields(22, [
    [0, 0x06054b50, 4],
    [8, count, 2],
    [10, count, 2],
    [12, directory.length, 4],
    [16, offset, 4],
  ]);
  return Buffer.concat([...locals, directory, end]);
}

const floats = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);
const tensorAt = (o: Partial<PickledTensor>): PickledTensor => ({
  kind: 'tensor',
  storageType: 'FloatStorage',
  key: '0',
  location: 'cpu',
  numel: 2,
  offset: 0,
  size: [2],
  stride: [1],
  requiresGrad: false,
  ...o,
});
const archiveOf = (t: PickledTensor, storage = floats([1, 2])): Uint8Array =>
  zipOf({ 'data.pkl': encodeTensorDict([['w', t]]), 'data/0': storage, version: Buffer.from('3\n') });

test('torch.load reads what saveTorchSave writes, every dtype, and d2r reads it back', () => {
  const dir = tempDir();
  const path = join(dir, 'ours.pt');
  torch.manualSeed(2);
  const record = {
    'layer.weight': torch.randn([3, 2]),
    f64: torch.randn([2], { dtype: 'float64' }),
    steps: torch.tensor(new BigInt64Array([5n, -6n])),
    flags: torch.tensor([true, false], { dtype: 'bool' }),
    view: torch.arange(0, 6).reshape([2, 3]).transpose(0, 1),
  };
  io.saveTorchSave(path, record);
  const py = pytorch('torch_files.py', 'read_ours', { path });
  assert.deepEqual(py['keys'], Object.keys(record));
  for (const [name, t] of Object.entries(record)) {
    assert.deepEqual(py[`t.${name}`]!.data, t.toNumbers(), name);
    assert.deepEqual(py[`t.${name}`]!.shape, t.shape, name);
  }
  assert.deepEqual(
    Object.keys(record).map((n) => py[`dtype.${n}`]),
    ['float32', 'float64', 'int64', 'bool', 'int64'],
  );
  const back = io.readWeightsFile(path);
  assert.deepEqual(back.notes, []);
  for (const [name, t] of Object.entries(record)) assert.deepEqual(back.tensors[name]!.toNumbers(), t.toNumbers(), name);
});

test("PyTorch's views of one storage read as views, and what is not a dict of tensors is refused naming it", () => {
  const dir = tempDir();
  const files = { list: join(dir, 'list.pt'), mixed: join(dir, 'mixed.pt'), views: join(dir, 'views.pt'), system: join(dir, 'system.pt') };
  pytorch('torch_files.py', 'odd_files', files);
  const { tensors } = io.readWeightsFile(files.views);
  assert.deepEqual(tensors['a']!.toNumbers(), [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(tensors['b']!.shape, [4, 3]);
  assert.deepEqual(tensors['b']!.toNumbers(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.throws(() => io.loadWeights(files.list), /list\.pt: holds a list, not a dictionary of tensors/);
  assert.throws(() => io.loadWeights(files.mixed), /mixed\.pt: is not a dictionary of tensors: it has entry 'lr', which is a float/);
  assert.throws(() => io.loadWeights(files.system), /system\.pt: data\.pkl: names the Python global 'posix\.system'/);
});

test('damaged and hostile archives are refused before libtorch reads them, never with a crash', () => {
  const dir = tempDir();
  const good = archiveOf(tensorAt({}));
  assert.deepEqual(io.parseTorchSave(good, 'good.pt').tensors['w']!.toNumbers(), [1, 2]);
  const refuse = (bytes: Uint8Array, pattern: RegExp): void => {
    assert.throws(
      () => io.parseTorchSave(bytes, 'bad.pt'),
      (err: Error) => err instanceof io.TorchFileError && pattern.test(err.message),
      String(pattern),
    );
  };
  // Truncated anywhere: no end record, or records and directory past the end.
  for (const cut of [10, 40, good.length - 30, good.length - 1]) refuse(good.subarray(0, cut), /^bad\.pt: /);
  // A huge declared record size in the central directory.
  const huge = Uint8Array.from(good);
  const directory = Buffer.from(huge).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  new DataView(huge.buffer).setUint32(directory + 20, 0x7fffffff, true);
  new DataView(huge.buffer).setUint32(directory + 24, 0x7fffffff, true);
  refuse(huge, /record 'archive\/data\.pkl' declares 2147483647 bytes at .* past the end/);
  // A storage declaring more elements than its record holds; a view reaching past its storage; a missing record.
  refuse(archiveOf(tensorAt({ numel: 2 ** 40 })), /tensor 'w': its storage declares 4398046511104 bytes but record data\/0 holds 8/);
  refuse(archiveOf(tensorAt({ size: [100] })), /tensor 'w': its shape and strides reach 400 bytes of a 8-byte storage/);
  refuse(zipOf({ 'data.pkl': encodeTensorDict([['w', tensorAt({ key: '7' })]]) }), /storage record data\/7 is missing/);
  // Not a pickle torch.save writes: an unknown opcode, a pop of an empty stack, memo entries out of order.
  refuse(zipOf({ 'data.pkl': Uint8Array.from([0x80, 0x02, 0x95, 0x2e]) }), /opcode 0x95 is not one torch\.save writes/);
  refuse(zipOf({ 'data.pkl': Uint8Array.from([0x80, 0x02, 0x7d, 0x73, 0x2e]) }), /pops an empty stack/);
  refuse(zipOf({ 'data.pkl': Uint8Array.from([0x80, 0x02, 0x7d, 0x71, 0x05, 0x2e]) }), /memo entry 5 is stored before entry 0/);
  refuse(zipOf({ 'data.pkl': Uint8Array.from([0x80, 0x02, 0x7d]) }), /the pickle ends inside an opcode/);
  // Given where safetensors are expected, an archive is named as what it is.
  const file = join(dir, 'weights.safetensors');
  writeFileSync(file, good);
  assert.throws(() => io.loadSafetensors(file), /weights\.safetensors: expected a safetensors file, found a torch\.save archive/);
  assert.deepEqual(io.loadWeights(file)['w']!.toNumbers(), [1, 2]);
  assert.equal(readFileSync(file).length, good.length);
});
