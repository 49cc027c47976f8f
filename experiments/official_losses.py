"""Runs the official training loss of TRADES, MART, LBGAT and D2R on the batches
that experiments/method-batch.ts wrote, and compares what they compute with what
the toolkit computed: the adversarial batch, the loss, every parameter's gradient
and the BatchNorm buffers after the loss's train-mode passes.

The official code is not part of this repository: pass the folders of its
checkouts (TRADES: trades.py and models/small_cnn.py; MART: mart.py; LBGAT:
lbgat.py and models/resnetcifar.py; D2R: the folder holding D2R.py). Its models
(TRADES' SmallCNN, LBGAT's ResNet18_cifar) load the toolkit's weights. It runs
on CPU: `.cuda()` is the identity here, and its one `torch.randn` call (the
Gaussian start) returns the noise the toolkit drew.

    /usr/bin/python3 experiments/official_losses.py --trades DIR --mart DIR --lbgat DIR --d2r DIR BATCH.json...

Prints a Markdown table (docs/results/official-losses.md); exits 1 when a
difference is above float32 rounding (the tolerances below).
"""
import argparse
import importlib.util
import json
import sys

import torch

# Float32 tolerances: the adversarial batch, the loss (relative), the gradients
# (largest difference over the largest magnitude, per tensor) and the buffers.
TOLERANCE = {'adv': 1e-6, 'loss': 1e-5, 'grad': 1e-4, 'buffer': 1e-5}


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def official(args):
    """The official loss functions, each as f(target, guidance, x, y, optimizer, settings)."""
    trades = load_module(f'{args.trades}/trades.py', 'official_trades')
    mart = load_module(f'{args.mart}/mart.py', 'official_mart')
    lbgat = load_module(f'{args.lbgat}/lbgat.py', 'official_lbgat')
    d2r = load_module(f'{args.d2r}/D2R.py', 'official_d2r')

    def budget(s):
        return dict(step_size=s['stepSize'], epsilon=s['epsilon'], perturb_steps=s['steps'])
    return {
        'trades': lambda T, G, x, y, opt, s: trades.trades_loss(T, x, y, opt, beta=s['beta'], **budget(s)),
        'mart': lambda T, G, x, y, opt, s: mart.mart_loss(T, x, y, opt, beta=s['beta'], **budget(s)),
        'lbgat': lambda T, G, x, y, opt, s: lbgat.lbgat_loss(T, G, x, y, opt, beta=s['beta'], **budget(s)),
        'lbgat0': lambda T, G, x, y, opt, s: lbgat.lbgat_loss(T, G, x, y, opt, beta=0.0, **budget(s)),
        # D2R's weights (1, 20, 30) are written into its loss; its beta is unused.
        'd2r': lambda T, G, x, y, opt, s: d2r.D2R_loss(T, G, x, y, opt, **budget(s)),
    }


def official_model(args, name):
    if name == 'smallcnn':
        return load_module(f'{args.trades}/models/small_cnn.py', 'official_small_cnn').SmallCNN(drop=0.0)
    if name == 'resnet18':
        return load_module(f'{args.lbgat}/models/resnetcifar.py', 'official_resnetcifar').ResNet18_cifar(num_classes=10)
    raise ValueError(f'unknown model {name!r}')


def state(tensors, prefix):
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def relative(a, b):
    """Largest difference over the largest magnitude of b (the toolkit's value), 0 for two zero tensors."""
    scale = b.abs().max().item()
    diff = (a.double() - b.double()).abs().max().item()
    return diff / scale if scale > 0 else diff


def compare(args, losses, manifest_path):
    with open(manifest_path) as f:
        s = json.load(f)
    tensors = torch.load(s['tensors'])
    torch.manual_seed(s['seed'])
    T = official_model(args, s['model'])
    T.load_state_dict(state(tensors, 'T.'))
    two = any(k.startswith('G.') for k in tensors)
    G = official_model(args, s['model']) if two else None
    if G is not None:
        G.load_state_dict(state(tensors, 'G.'))
    models = {'T.': T, 'G.': G} if two else {'T.': T}
    params = [p for m in models.values() for p in m.parameters()]
    optimizer = torch.optim.SGD(params, lr=0.0)
    x, y, noise = tensors['x'], tensors['y'], tensors['noise']

    # The adversarial batch is the input of the target's one train-mode pass that is not x.
    seen = []
    T.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[0].detach().clone()) if m.training else None)
    randn, cuda = torch.randn, torch.Tensor.cuda
    torch.randn = lambda *shape, **kw: noise.clone() if tuple(shape[0] if len(shape) == 1 else shape) == tuple(x.shape) else randn(*shape, **kw)
    torch.Tensor.cuda = lambda self, *a, **kw: self
    try:
        for m in models.values():
            m.train()
        loss = losses[s['method']](T, G, x, y, optimizer, s)
        loss.backward()
    finally:
        torch.randn, torch.Tensor.cuda = randn, cuda
    adv = [a for a in seen if not torch.equal(a, x)]
    if len(adv) != 1:
        raise RuntimeError(f'{manifest_path}: expected one train-mode pass of the target on x\', saw {len(adv)}')

    row = {
        'method': s['method'],
        'model': s['model'],
        'adv': (adv[0] - tensors['ours.adv']).abs().max().item(),
        'loss': abs(loss.item() - tensors['ours.loss'].item()) / abs(loss.item()),
        'grad': 0.0,
        'buffer': 0.0,
        'tensors': 0,
    }
    for prefix, m in models.items():
        for name, p in m.named_parameters():
            ours = tensors.get(f'ours.grad.{prefix}{name}')
            if ours is None or p.grad is None:
                raise RuntimeError(f'{manifest_path}: {prefix}{name}: a gradient on one side only')
            row['grad'] = max(row['grad'], relative(p.grad, ours))
            row['tensors'] += 1
        for name, b in m.named_buffers():
            ours = tensors[f'ours.buffer.{prefix}{name}']
            if b.is_floating_point():
                row['buffer'] = max(row['buffer'], (b - ours).abs().max().item())
            elif not torch.equal(b, ours):
                row['buffer'] = float('inf')  # num_batches_tracked: a different number of train-mode passes
            row['tensors'] += 1
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    for repo in ('trades', 'mart', 'lbgat', 'd2r'):
        parser.add_argument(f'--{repo}', required=True, help=f'the folder of the official {repo} code')
    parser.add_argument('batches', nargs='+', help='the .json files of experiments/method-batch.ts')
    args = parser.parse_args()
    torch.set_num_threads(1)
    losses = official(args)
    print('| method | model | adversarial batch, max abs diff | loss, rel. diff | gradients, max rel. diff | BatchNorm buffers, max abs diff | tensors compared |')
    print('|---|---|---|---|---|---|---|')
    failed = False
    for path in args.batches:
        r = compare(args, losses, path)
        print(f"| {r['method']} | {r['model']} | {r['adv']:.1e} | {r['loss']:.1e} | {r['grad']:.1e} | {r['buffer']:.1e} | {r['tensors']} |")
        failed |= any(r[k] > TOLERANCE[k] for k in TOLERANCE)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
