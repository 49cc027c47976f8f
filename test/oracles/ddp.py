"""PyTorch's own DistributedDataParallel (Gloo, 2 processes) as the oracle of
d2r's GradientAverager: a small CNN without batch norm or dropout, the given
initial weights, each rank training on its own shard with SGD.

check 'train', inputs: weights (state dict of TinyCnn), shards (per rank, per
step: {x, y}), lr, momentum. Returns rank 0's state dict after the steps.
"""
import os
import socket
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_io import serve, read_tensors, write_tensors  # noqa: E402


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).flatten(1))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def worker(rank, world_size, port, inputs, out_path):
    torch.set_num_threads(1)
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    model = TinyCnn()
    model.load_state_dict(inputs['weights'])
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=inputs['lr'], momentum=inputs['momentum'])
    for batch in inputs['shards'][rank]:
        opt.zero_grad()
        F.cross_entropy(ddp(batch['x']), batch['y']).backward()
        opt.step()
    if rank == 0:
        write_tensors(out_path, model.state_dict())
    dist.barrier()
    dist.destroy_process_group()


def train(inputs):
    world_size = len(inputs['shards'])
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, 'weights.bin')
        mp.spawn(worker, args=(world_size, free_port(), inputs, out_path), nprocs=world_size)
        return read_tensors(out_path)


if __name__ == '__main__':
    serve({'train': train})
