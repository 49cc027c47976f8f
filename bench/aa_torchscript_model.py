"""A small network outside our model zoo, trained in PyTorch and saved as
TorchScript, for bench/aa-compare.ts (our AutoAttack against the reference on
the same scripted model).

The network: a 3x3 convolution, a residual block (two 3x3 convolutions and an
add), 2x2 average pooling, a strided convolution, global average pooling and a
linear layer. It trains for a fixed number of steps (Adam, batch 128, one
thread, seed 0) on the Fashion-MNIST training images, and is saved twice:

  OUT/convnet.pt          the network (eval mode: deterministic)
  OUT/convnet-dropout.pt  the same weights with dropout (p 0.2) before the last
                          layer that stays on in eval mode: a randomised model,
                          for AutoAttack's rand version

  python3 bench/aa_torchscript_model.py [--out runs/aa-ref] [--steps 600]
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FASHION_MNIST = '/usr/share/datasets/fashion-mnist'


def idx(name):
    """An IDX file of the data set (images or labels) as a numpy array."""
    with gzip.open(os.path.join(FASHION_MNIST, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class ResidualNet(nn.Module):
    def __init__(self, width: int = 8, classes: int = 10, dropout: float = 0.0):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.block1 = nn.Conv2d(width, width, 3, padding=1)
        self.block2 = nn.Conv2d(width, width, 3, padding=1)
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.head = nn.Linear(2 * width, classes)
        # Kept on in eval mode (training=True below): a randomised defence.
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.stem(x))
        h = F.relu(h + self.block2(F.relu(self.block1(h))))
        h = F.avg_pool2d(h, 2)
        h = F.relu(self.down(h))
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        if self.dropout > 0:
            h = F.dropout(h, self.dropout, training=True)
        return self.head(h)


def save(script, path):
    """Writes the scripted module atomically (a partial file never has the final name)."""
    partial = f'{path}.partial-{os.getpid()}'
    script.save(partial)
    os.replace(partial, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='runs/aa-ref')
    parser.add_argument('--steps', type=int, default=600)
    args = parser.parse_args()
    paths = {name: os.path.join(args.out, name) for name in ('convnet.pt', 'convnet-dropout.pt')}
    for path in paths.values():
        if os.path.exists(path):
            parser.error(f'{path} exists: remove it or give another --out (this script never overwrites a file)')
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = torch.from_numpy(idx('train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    tx = torch.from_numpy(idx('t10k-images-idx3-ubyte.gz')[:1000].astype(np.float32) / 255).unsqueeze(1)
    ty = torch.from_numpy(idx('t10k-labels-idx1-ubyte.gz')[:1000].astype(np.int64))
    model = ResidualNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    started = time.time()
    model.train()
    for step in range(args.steps):
        batch = torch.randint(0, len(y), (128,))
        optimizer.zero_grad()
        F.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    os.makedirs(args.out, exist_ok=True)
    randomised = ResidualNet(dropout=0.2)
    randomised.load_state_dict(model.state_dict())
    save(torch.jit.script(model), paths['convnet.pt'])
    save(torch.jit.script(randomised.eval()), paths['convnet-dropout.pt'])
    print(json.dumps({'steps': args.steps, 'seconds': round(time.time() - started, 1),
                      'test_accuracy_first_1000': accuracy, 'out': args.out}))


if __name__ == '__main__':
    main()
