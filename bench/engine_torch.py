# The PyTorch side of bench/engine.ts: a long-lived process. It prints
# "ready <version>", then answers each "run <case> <reps>" line on stdin with the
# milliseconds the reps took, until "quit". The cases are the same work as the
# TypeScript side, written with functional ops from the same specs.
import math
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)

params = []


def param(shape, fan_in):
    p = (torch.randn(*shape) * math.sqrt(2 / fan_in)).requires_grad_()
    params.append(p)
    return p


# ---- (a) small CNN training step with hand-written SGD momentum
cnn = dict(w1=param([32, 1, 3, 3], 9), b1=param([32], 9), w2=param([64, 32, 3, 3], 288), b2=param([64], 288),
           w3=param([128, 64 * 12 * 12], 9216), b3=param([128], 9216), w4=param([10, 128], 128), b4=param([10], 128))
cnn_params = list(cnn.values())
cnn_momentum = [torch.zeros_like(p) for p in cnn_params]
cnn_x, cnn_y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))


def small_cnn(x):
    h = F.relu(F.conv2d(F.relu(F.conv2d(x, cnn['w1'], cnn['b1'])), cnn['w2'], cnn['b2']))
    f = F.max_pool2d(h, 2).flatten(1)
    return F.linear(F.relu(F.linear(f, cnn['w3'], cnn['b3'])), cnn['w4'], cnn['b4'])


def small_cnn_train_step():
    lr, momentum = 0.01, 0.9
    F.cross_entropy(small_cnn(cnn_x), cnn_y).backward()
    with torch.no_grad():
        for p, buf in zip(cnn_params, cnn_momentum):
            buf.mul_(momentum).add_(p.grad)
            p.add_(buf, alpha=-lr)
    for p in cnn_params:
        p.grad = None


# ---- (a') the same step with torch.optim.SGD and its multi-tensor (foreach) kernels
cnn_sgd = torch.optim.SGD(cnn_params, lr=0.01, momentum=0.9, foreach=True)


def small_cnn_sgd_step():
    F.cross_entropy(small_cnn(cnn_x), cnn_y).backward()
    cnn_sgd.step()
    cnn_sgd.zero_grad(set_to_none=True)


# ---- (a'') a PGD-AT batch of smallcnn (TRADES' SmallCNN, no dropout), weights NCHW or channels-last
def trades_param(shape, scale):
    return (torch.randn(*shape) * scale).requires_grad_(), torch.zeros(shape[0]).requires_grad_()


trades = dict(c1=trades_param([32, 1, 3, 3], 0.3), c2=trades_param([32, 32, 3, 3], 0.08), c3=trades_param([64, 32, 3, 3], 0.08),
              c4=trades_param([64, 64, 3, 3], 0.06), f1=trades_param([200, 1024], 0.03), f2=trades_param([200, 200], 0.07),
              f3=trades_param([10, 200], 0.07))
trades_cl = {k: ((w.detach().to(memory_format=torch.channels_last).requires_grad_() if w.dim() == 4 else w), b) for k, (w, b) in trades.items()}


def trades_cnn(x, p):
    def conv(h, wb):
        return F.relu(F.conv2d(h, *wb))
    f = F.max_pool2d(conv(conv(F.max_pool2d(conv(conv(x, p['c1']), p['c2']), 2), p['c3']), p['c4']), 2).flatten(1)
    return F.linear(F.relu(F.linear(F.relu(F.linear(f, *p['f1'])), *p['f2'])), *p['f3'])


def pgd_batch(p):
    def run():
        delta = torch.zeros(128, 1, 28, 28)
        for _ in range(10):
            delta.requires_grad_()
            g, = torch.autograd.grad(F.cross_entropy(trades_cnn(cnn_x + delta, p), cnn_y), [delta])
            with torch.no_grad():
                delta = (delta + 0.01 * g.sign()).clamp(-0.1, 0.1)
        F.cross_entropy(trades_cnn(cnn_x + delta, p), cnn_y).backward()
        for wb in p.values():
            for t in wb:
                t.grad = None
    return run


# ---- (b) PreActResNet-18, batch norm in train mode
def bn(channels):
    weight, bias = torch.ones(channels).requires_grad_(), torch.zeros(channels).requires_grad_()
    params.extend([weight, bias])
    return dict(weight=weight, bias=bias, mean=torch.zeros(channels), var=torch.ones(channels))


def batch_norm(x, b):
    return F.batch_norm(x, b['mean'], b['var'], b['weight'], b['bias'], training=True)


def block(cin, cout, stride):
    return dict(bn1=bn(cin), conv1=param([cout, cin, 3, 3], cin * 9), bn2=bn(cout), conv2=param([cout, cout, 3, 3], cout * 9),
                shortcut=param([cout, cin, 1, 1], cin) if stride != 1 or cin != cout else None, stride=stride)


def block_forward(x, b):
    pre = F.relu(batch_norm(x, b['bn1']))
    shortcut = F.conv2d(pre, b['shortcut'], None, stride=b['stride']) if b['shortcut'] is not None else x
    h = F.conv2d(pre, b['conv1'], None, stride=b['stride'], padding=1)
    return F.conv2d(F.relu(batch_norm(h, b['bn2'])), b['conv2'], None, padding=1) + shortcut


n_before = len(params)
preact = dict(stem=param([64, 3, 3, 3], 27),
              blocks=[block(cin, cout, s) for cin, cout, s in
                      [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1)]],
              bn=bn(512), fc=param([10, 512], 512), fc_bias=param([10], 512))
preact_params = params[n_before:]
res_x, res_y = torch.rand(32, 3, 32, 32), torch.randint(0, 10, (32,))


def preact_resnet18(x):
    h = F.conv2d(x, preact['stem'], None, padding=1)
    for b in preact['blocks']:
        h = block_forward(h, b)
    h = F.avg_pool2d(F.relu(batch_norm(h, preact['bn'])), 4).flatten(1)
    return F.linear(h, preact['fc'], preact['fc_bias'])


def preact18_fwd_bwd():
    F.cross_entropy(preact_resnet18(res_x), res_y).backward()
    for p in preact_params:
        p.grad = None


def preact18_fwd():
    F.cross_entropy(preact_resnet18(res_x), res_y).item()


# ---- (c) per-op call overhead: 100,000 adds of 1-element tensors
one_a, one_b = torch.rand(1), torch.rand(1)


def op_overhead():
    a, b = one_a, one_b
    for _ in range(100_000):
        torch.add(a, b)


cases = dict(small_cnn_train_step=small_cnn_train_step, small_cnn_sgd_step=small_cnn_sgd_step, smallcnn_pgd_batch=pgd_batch(trades),
             smallcnn_pgd_batch_cl=pgd_batch(trades_cl), preact18_fwd_bwd=preact18_fwd_bwd, preact18_fwd=preact18_fwd,
             op_overhead=op_overhead)

print('ready', torch.__version__, flush=True)
for line in sys.stdin:
    words = line.split()
    if not words or words[0] == 'quit':
        break
    try:
        _, name, reps = words
        fn = cases[name]
        t0 = time.perf_counter()
        for _ in range(int(reps)):
            fn()
        print('%.6f' % ((time.perf_counter() - t0) * 1000), flush=True)
    except Exception as e:  # answer with the error instead of hanging the caller
        print('error %r' % (e,), flush=True)
