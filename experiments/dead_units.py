"""Which of a trained smallcnn's ReLU units still activate: for each run's target.safetensors, the
units whose output is 0 on every one of the first N Fashion-MNIST test images, per layer, and how
many classes the model predicts there. A collapsed run (a constant output) has a layer with every
unit dead. PyTorch (Debian's python3-torch) runs TRADES' SmallCNN from test/oracles on the weights.

    /usr/bin/python3 experiments/dead_units.py RUN_DIR [RUN_DIR ...] [--n 1000]
"""
import argparse
import gzip
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'oracles'))
from reference_models import SmallCNN  # noqa: E402

TEST_IMAGES = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'


def read_safetensors(path):
    blob = open(path, 'rb').read()
    size = struct.unpack('<Q', blob[:8])[0]
    header = json.loads(blob[8:8 + size])
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] != 'F32':
            raise SystemExit(f'{path}: {name} is {entry["dtype"]}, expected F32')
        start, end = entry['data_offsets']
        data = bytearray(blob[8 + size + start:8 + size + end])
        tensors[name] = torch.frombuffer(data, dtype=torch.float32).reshape(entry['shape'])
    return tensors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('runs', nargs='+')
    parser.add_argument('--n', type=int, default=1000)
    args = parser.parse_args()
    raw = gzip.open(TEST_IMAGES).read()[16:]
    x = torch.frombuffer(bytearray(raw), dtype=torch.uint8)[:args.n * 784].reshape(-1, 1, 28, 28).float() / 255
    for run in args.runs:
        weights = read_safetensors(os.path.join(run, 'target.safetensors'))
        model = SmallCNN()
        model.load_state_dict({k: weights[k] for k in model.state_dict()})
        model.eval()
        outputs = {}
        layers = [(f'features.{n}', m) for n, m in model.feature_extractor.named_children()]
        layers += [(f'classifier.{n}', m) for n, m in model.classifier.named_children()]
        for name, module in layers:
            if isinstance(module, torch.nn.ReLU):
                module.register_forward_hook(lambda _m, _i, out, name=name: outputs.__setitem__(name, out))
        with torch.no_grad():
            logits = model(x)
        print(run)
        for name, out in outputs.items():
            per_unit = out.transpose(0, 1).reshape(out.shape[1], -1)
            print(f'  {name}: {int((per_unit.amax(1) <= 0).sum())} of {per_unit.shape[0]} units dead')
        print(f'  classes predicted on {len(x)} test images: {int(logits.argmax(1).unique().numel())}')


if __name__ == '__main__':
    main()
