"""The wire format shared by the oracle programs and test/helpers/oracle.ts.

A program is run as `python3 <program>.py <check>` with one JSON object on
stdin: the check's parameters, where a tensor is {"__tensor": true, "shape",
"dtype", "data"} (at any depth of lists and objects). The check returns a dict
of results; tensors go back as {"shape", "dtype", "data"} with the data as
float64, everything else as JSON. Tensor files (read_tensors / write_tensors)
carry whole state dicts, which would be too slow as JSON.
"""
import json
import math
import sys

import torch

torch.set_num_threads(1)

DTYPES = {
    'float32': torch.float32, 'float64': torch.float64, 'int64': torch.int64, 'int32': torch.int32,
    'uint8': torch.uint8, 'bool': torch.bool, 'int8': torch.int8, 'int16': torch.int16,
}


def dtype_name(dtype):
    return str(dtype).replace('torch.', '')


def decode(value):
    if isinstance(value, dict):
        if '__tensor' in value:
            return torch.tensor(value['data'], dtype=DTYPES[value['dtype']]).reshape(value['shape'])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value):
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return {'shape': list(value.shape), 'dtype': dtype_name(value.dtype), 'data': value.reshape(-1).double().tolist()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def serve(checks):
    """Runs the check named on the command line with the decoded stdin and prints its results."""
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit('usage: %s <check>; checks: %s' % (sys.argv[0], ', '.join(sorted(checks))))
    results = checks[sys.argv[1]](decode(json.load(sys.stdin)))
    json.dump(encode(results), sys.stdout, allow_nan=True)


def read_tensors(path):
    """Reads the tensor file of test/nn/tensorFile.ts: 8-byte header length, JSON header, raw bytes."""
    raw = bytearray(open(path, 'rb').read())
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n].decode())
    tensors = {}
    for name, e in header.items():
        dtype = DTYPES[e['dtype']]
        count = math.prod(e['shape'])
        t = torch.frombuffer(raw, dtype=dtype, offset=8 + n + e['offset'], count=count) if count > 0 else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(e['shape']).clone()
    return tensors


def write_tensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        b = t.numpy().tobytes()
        header[name] = {'dtype': dtype_name(t.dtype), 'shape': list(t.shape), 'offset': offset}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    with open(path, 'wb') as f:
        f.write(len(h).to_bytes(8, 'little'))
        f.write(h)
        for c in chunks:
            f.write(c)
