# The PyTorch side of bench/ddp.ts: a bounded D2R training epoch (smallcnn
# target and guidance, Fashion-MNIST, CAG 10 steps) in N processes with T
# threads each, DistributedDataParallel over Gloo when N > 1. Prints one JSON
# line from rank 0: the seconds of the timed batches and the images per second.
#
#   python3 bench/ddp_torch.py PROCS THREADS BATCHES BATCH_SIZE
import gzip
import json
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn

from d2r_torch import cag, d2r_loss

DATA = '/usr/share/datasets/fashion-mnist'
EPS, ALPHA, STEPS = 0.1, 0.01, 10
WARMUP = 1


def fashion_mnist(count):
    with gzip.open(os.path.join(DATA, 'train-images-idx3-ubyte.gz')) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)[: count * 784]
    with gzip.open(os.path.join(DATA, 'train-labels-idx1-ubyte.gz')) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:count]
    x = torch.from_numpy(images.copy()).float().div_(255).reshape(count, 1, 28, 28)
    return x, torch.from_numpy(labels.astype(np.int64))


def small_cnn():
    # The TRADES MNIST network, as src/models/smallCnn.ts.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 200), nn.ReLU(), nn.Dropout(0.5), nn.Linear(200, 200), nn.ReLU(),
        nn.Linear(200, 10))


def d2r_step(target, guide, train_target, train_guide, opt, x, y):
    # CAG on the plain modules (no DDP reducer for gradients w.r.t. the input only).
    target.eval(); guide.eval()
    xa = cag(target, guide, x, EPS, ALPHA, STEPS)
    target.train(); guide.train()
    opt.zero_grad()
    d2r_loss(train_target(xa), train_target(x), train_guide(x), y).backward()
    opt.step()


def worker(rank, procs, threads, batches, batch_size, port, queue):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if procs > 1:
        os.environ['MASTER_ADDR'] = '127.0.0.1'
        os.environ['MASTER_PORT'] = str(port)
        dist.init_process_group('gloo', rank=rank, world_size=procs)
    x_all, y_all = fashion_mnist((batches + WARMUP) * batch_size)
    target, guide = small_cnn(), small_cnn()
    train_target, train_guide = target, guide
    if procs > 1:
        train_target = nn.parallel.DistributedDataParallel(target)
        train_guide = nn.parallel.DistributedDataParallel(guide)
    opt = torch.optim.SGD(list(target.parameters()) + list(guide.parameters()), lr=0.01, momentum=0.9)
    share = batch_size // procs
    started = None
    for b in range(batches + WARMUP):
        if b == WARMUP:
            if procs > 1:
                dist.barrier()
            started = time.perf_counter()
        lo = b * batch_size + rank * share
        d2r_step(target, guide, train_target, train_guide, opt, x_all[lo:lo + share], y_all[lo:lo + share])
    if procs > 1:
        dist.barrier()
    seconds = time.perf_counter() - started
    if rank == 0:
        queue.put(seconds)
    if procs > 1:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


if __name__ == '__main__':
    procs, threads, batches, batch_size = (int(a) for a in sys.argv[1:5])
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.spawn(worker, args=(procs, threads, batches, batch_size, free_port(), queue), nprocs=procs)
    seconds = queue.get()
    print(json.dumps({'seconds': seconds, 'imagesPerSecond': batches * (batch_size // procs) * procs / seconds}), flush=True)
