"""A plain-Python safetensors reader and writer, written from the format description
(the `safetensors` package is not installed), to exchange files with io/safetensors."""
import json
import struct

import torch

from oracle_io import serve

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
        blobs.append(b)
        off += len(b)
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


def exchange(inp):
    """Reads our file inp['ours'] (expecting inp['metadata']) and writes one of every dtype to inp['theirs']."""
    out = {}
    mine, meta = read(inp['ours'])
    assert meta == inp['metadata'], meta
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
    return out


if __name__ == '__main__':
    serve({'exchange': exchange})
