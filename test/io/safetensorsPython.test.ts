// Files move between this implementation and a plain-Python one written from
// the format description (the `safetensors` package is not installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { torch, io } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { pytorch } from '../helpers/oracle.js';
import { tempDir } from '../helpers/cli.js';

const PYTHON_FORMAT = `
import struct
CODES = {torch.float64: 'F64', torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64',
         torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL'}
DTYPES = {v: k for k, v in CODES.items()}
def raw(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
def write(path, tensors, metadata):
    # Names in plain sorted order and no padding: valid, if not what the reference writer does.
    header, blobs, off = {'__metadata__': metadata}, [], 0
    for name, t in sorted(tensors.items()):
        b = raw(t)
        header[name] = {'dtype': CODES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
def read(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    assert n % 8 == 0 and b[8:9] == b'{', 'header padded to 8 bytes, starting with {'
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    res, end = {}, 0
    for name, e in header.items():
        if name == '__metadata__':
            continue
        s, t = e['data_offsets']
        assert s == end, 'tensors laid out in header order without gaps'
        end = t
        dt = DTYPES[e['dtype']]
        res[name] = torch.frombuffer(bytearray(data[s:t]), dtype=dt).reshape(e['shape']) if t > s else torch.empty(e['shape'], dtype=dt)
    assert end == len(data), 'nothing after the last tensor'
    return res, header.get('__metadata__')
`;

function sample(): Record<string, Tensor> {
  torch.manualSeed(4);
  return {
    f64: torch.randn([2, 2], { dtype: 'float64' }),
    f32: torch.randn([3]),
    f16: torch.randn([2]).to('float16'),
    bf16: torch.randn([2]).to('bfloat16'),
    i64: torch.tensor(new BigInt64Array([5n, -6n])),
    i32: torch.tensor(new Int32Array([-7])),
    i16: torch.tensor(new Int16Array([300])),
    i8: torch.tensor(new Int8Array([-3, 4])),
    u8: torch.tensor(new Uint8Array([200])),
    bool: torch.tensor([true, false], { dtype: 'bool' }),
    empty: torch.zeros([2, 0]),
    scalar: torch.tensor(1.5, []),
  };
}

test('Python reads our files and we read Python\'s, every dtype', () => {
  const dir = tempDir();
  const ours = join(dir, 'ours.safetensors');
  const theirs = join(dir, 'theirs.safetensors');
  const record = sample();
  io.saveSafetensors(ours, record, { made_by: 'd2r' });
  const py = pytorch(
    PYTHON_FORMAT +
      `
mine, meta = read(inp['ours'])
assert meta == {'made_by': 'd2r'}, meta
for name, t in mine.items():
    out['ours.' + name] = t.double()
    out['dtype.' + name] = CODES[t.dtype]
torch.manual_seed(0)
theirs = {'weight': torch.randn(3, 2), 'half': torch.randn(3).half(), 'brain': torch.randn(2).bfloat16(),
          'steps': torch.tensor([5, 6]), 'flags': torch.tensor([True, False]), 'small': torch.tensor([-1, 2], dtype=torch.int8),
          '0': torch.zeros(0), 'value': torch.tensor(2.5, dtype=torch.float64)}
write(inp['theirs'], theirs, {'framework': 'pt'})
for name, t in theirs.items():
    out['theirs.' + name] = t.double()
`,
    { ours, theirs },
  );
  for (const [name, t] of Object.entries(record)) {
    assert.deepEqual(py[`ours.${name}`]!.shape, t.shape, name);
    assert.deepEqual(py[`ours.${name}`]!.data, t.toNumbers(), name);
  }
  assert.deepEqual(
    Object.keys(record).map((n) => py[`dtype.${n}`]),
    ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL', 'F32', 'F32'],
  );
  const { tensors, metadata } = io.readSafetensors(theirs);
  assert.deepEqual(metadata, { framework: 'pt' });
  const dtypes = { weight: 'float32', half: 'float16', brain: 'bfloat16', steps: 'int64', flags: 'bool', small: 'int8', '0': 'float32', value: 'float64' };
  for (const [name, dtype] of Object.entries(dtypes)) {
    const t = tensors[name]!;
    assert.equal(t.dtype, dtype, name);
    assert.deepEqual(t.shape, py[`theirs.${name}`]!.shape, name);
    assert.deepEqual(t.toNumbers(), py[`theirs.${name}`]!.data, name);
  }
});
