import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { tempDir } from '../helpers/cli.js';

test('round trip of every dtype', () => {
  const dir = tempDir();
  const record = {
    f32: torch.randn([2, 3]),
    f64: torch.randn([4], { dtype: 'float64' }),
    i64: torch.tensor(new BigInt64Array([1n, -2n, 3n])),
    i32: torch.tensor(new Int32Array([7, -8])),
    u8: torch.tensor(new Uint8Array([0, 255, 9])),
    b: torch.tensor([true, false, true], { dtype: 'bool' }),
    empty: torch.zeros([0, 3]),
    scalar: torch.tensor(3.5, []),
  };
  const path = join(dir, 'all.safetensors');
  io.saveSafetensors(path, record, { format: 'pt' });
  const back = io.loadSafetensors(path);
  for (const [k, v] of Object.entries(record)) {
    assert.equal(back[k]!.dtype, v.dtype, k);
    assert.deepEqual(back[k]!.shape, v.shape, k);
    assert.deepEqual(back[k]!.toNumbers(), v.toNumbers(), k);
  }
  assert.deepEqual(io.loadSafetensorsMetadata(path), { format: 'pt' });
});

test('bytes follow the published layout exactly', () => {
  const bytes = io.serializeSafetensors({ b: torch.tensor(new Int32Array([1, 2])), a: torch.tensor([0.5], [1]) });
  // Both 4-byte types: sorted by name. Header padded with spaces to a multiple of 8.
  const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}';
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const expected = Buffer.alloc(8 + padded.length + 12);
  expected.writeBigUInt64LE(BigInt(padded.length), 0);
  expected.write(padded, 8, 'utf8');
  expected.writeFloatLE(0.5, 8 + padded.length);
  expected.writeInt32LE(1, 8 + padded.length + 4);
  expected.writeInt32LE(2, 8 + padded.length + 8);
  assert.ok(Buffer.from(bytes).equals(expected), `got ${Buffer.from(bytes).toString('latin1')}`);
});

test('files move between PyTorch and here (spec implemented in the Python oracle)', () => {
  const dir = tempDir();
  const fromPython = join(dir, 'py.safetensors');
  // A writer and a reader of the format in plain Python, independent of ours.
  const py = pytorch(`
import struct
def write(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in sorted(tensors.items()):
        raw = t.contiguous().numpy().tobytes()
        header[name] = {'dtype': {torch.float32: 'F32', torch.int64: 'I64'}[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        blobs.append(raw); off += len(raw)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h); f.write(b''.join(blobs))
def read(path):
    b = open(path, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; header = json.loads(b[8:8 + n]); res = {}
    for name, e in header.items():
        if name == '__metadata__': continue
        s, t = e['data_offsets']; dt = {'F32': torch.float32, 'I64': torch.int64}[e['dtype']]
        res[name] = torch.frombuffer(bytearray(b[8 + n + s:8 + n + t]), dtype=dt).reshape(e['shape'])
    return res
torch.manual_seed(0)
w = {'weight': torch.randn(3, 2), 'steps': torch.tensor([5, 6], dtype=torch.int64)}
write(inp['path_out'], w)
out['weight'] = w['weight']
mine = read(inp['path_in'])
out['mine_x'] = mine['x']
`, { path_out: fromPython, path_in: (() => {
    const p = join(dir, 'ours.safetensors');
    io.saveSafetensors(p, { x: torch.tensor([[1, 2], [3, 4]]) });
    return p;
  })() });
  const loaded = io.loadSafetensors(fromPython);
  assert.deepEqual(loaded['weight']!.toNumbers(), py['weight']!.data.map((v) => Math.fround(v)));
  assert.deepEqual(loaded['steps']!.toNumbers(), [5, 6]);
  assert.deepEqual(py['mine_x']!.data, [1, 2, 3, 4]);
});

test('malformed files give clear errors and never crash', () => {
  const dir = tempDir();
  const good = Buffer.from(io.serializeSafetensors({ t: torch.tensor([1, 2, 3, 4], [2, 2]) }));
  const headerLen = Number(good.readBigUInt64LE(0));
  const withHeader = (json: string, data: Buffer = Buffer.alloc(16)): Buffer => {
    const h = Buffer.from(json);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, data]);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['short', Buffer.alloc(5), /shorter than the 8-byte header length/],
    ['huge header length', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(1n << 40n, 0); return b; })(), /exceeds the/],
    ['header past end', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(BigInt(good.length), 0); return b; })(), /runs past the end/],
    ['bad json', withHeader('{"t": '), /not valid UTF-8 JSON/],
    ['not an object', withHeader('[1, 2]'), /not a JSON object/],
    ['unknown dtype', withHeader('{"t":{"dtype":"F8","shape":[4],"data_offsets":[0,16]}}'), /unknown dtype "F8"/],
    ['bad shape', withHeader('{"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}'), /shape \[-4\] is not a list/],
    ['offsets outside', withHeader('{"t":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}'), /run past the 16 data bytes/],
    ['wrong byte length', withHeader('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}'), /needs 12 bytes, data_offsets give 16/],
    ['overlap', withHeader('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}'), /overlaps/],
    ['gap', withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}'), /gap of 8 bytes/],
    ['trailing bytes', withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), /cover 8 data bytes but the file holds 16/],
    ['truncated data', good.subarray(0, 8 + headerLen + 10), /run past the 10 data bytes/],
    ['reversed offsets', withHeader('{"t":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}'), /is not \[begin, end\]/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = join(dir, `${name.replace(/ /g, '-')}.safetensors`);
    writeFileSync(path, bytes);
    assert.throws(() => io.loadSafetensors(path), (e: Error) => message.test(e.message) && e.message.includes(path), name);
  }
  assert.throws(() => io.loadSafetensors(join(dir, 'missing.safetensors')), /cannot read \(ENOENT\)/);
  assert.ok(readFileSync(join(dir, 'short.safetensors')).length === 5);
});
