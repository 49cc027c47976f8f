"""How accurate libtorch's CPU kernels are channels-last (NHWC) against NCHW, with float64 as the truth.

The input gradient of a cross-entropy loss, one batch, for a few networks in train and eval mode:
the largest error relative to the largest float64 value, NCHW and channels-last. docs/engine.md
("Memory format") cites its output; it decides which models the CLI lays out channels-last.

    /usr/bin/python3 experiments/channels_last_accuracy.py [--batch 8] [--seeds 6,7]
"""
import argparse
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def head(channels):
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]


NETWORKS = {
    # TRADES' SmallCNN without dropout: the study's network.
    'smallcnn': (1, 28, lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(1024, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))),
    'two conv-bn-relu': (3, 32, lambda: nn.Sequential(*conv_bn_relu(3, 64), *conv_bn_relu(64, 64), *head(64))),
    # A ResNet-like stem and two stages, without shortcuts.
    'eight conv-bn-relu': (3, 32, lambda: nn.Sequential(
        *conv_bn_relu(3, 64), *conv_bn_relu(64, 64), *conv_bn_relu(64, 64), *conv_bn_relu(64, 128, stride=2),
        *conv_bn_relu(128, 128), *conv_bn_relu(128, 128), *head(128))),
}


def input_gradient(model, x, y, train):
    model.train(train)
    x = x.clone().requires_grad_()
    F.cross_entropy(model(x), y).backward()
    return x.grad.double()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--seeds', default='6,7')
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'PyTorch {torch.__version__}, batch {args.batch}; largest |error| / largest |float64 value| of the input gradient')
    for name, (channels, side, build) in NETWORKS.items():
        for seed in map(int, args.seeds.split(',')):
            torch.manual_seed(seed)
            net = build()
            x, y = torch.rand(args.batch, channels, side, side), torch.randint(0, 10, (args.batch,))
            for train in (True, False):
                truth = input_gradient(copy.deepcopy(net).double(), x.double(), y, train)
                plain = input_gradient(copy.deepcopy(net), x, y, train)
                nhwc = input_gradient(copy.deepcopy(net).to(memory_format=torch.channels_last), x, y, train)
                rel = lambda g: ((g - truth).abs().max() / truth.abs().max()).item()
                mode = 'train' if train else 'eval'
                print(f'{name:20s} seed {seed} {mode:5s}  NCHW {rel(plain):.1e}  channels-last {rel(nhwc):.1e}')


if __name__ == '__main__':
    main()
