"""Engine oracles: tables of op cases (values and gradients), torch.autograd.grad, seeded draws.

A table case is a Python expression over the named inputs of test/engine/support.ts
(F is torch.nn.functional); each result is stored under '<key>.<j>' with its count
under '<key>.n', or the error PyTorch raised under '<key>.error'.
"""
import torch
import torch.nn.functional as F

from oracle_io import serve


def weights_like(x):
    """The fixed weights of test/engine/support.ts weightsLike: gradients are of sum(result * weights)."""
    return torch.cos(torch.arange(x.numel(), dtype=x.dtype) * 0.37 + 0.1).reshape(x.shape)


def bn_train(x, rm, rv, w, b, momentum):
    rm, rv = rm.clone(), rv.clone()
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
    return [y, rm, rv]


def scope(tensors):
    """The names a case expression may use: the inputs, torch, F and the helpers above."""
    return {'torch': torch, 'F': F, 'bn_train': bn_train, **tensors}


def as_list(r):
    return list(r) if isinstance(r, (list, tuple)) else [r]


def table(inp):
    out = {}
    names = scope(inp['tensors'])
    for case in inp['cases']:
        key = case['key']
        try:
            rs = as_list(eval(case['expr'], names))
            out[key + '.n'] = len(rs)
            for j, x in enumerate(rs):
                out['%s.%d' % (key, j)] = x
        except Exception as e:
            out[key + '.error'] = repr(e)
    return out


def table_gradients(inp):
    """For each case, the gradient of sum(result * weights) with respect to every float input that it uses."""
    out = {}
    for case in inp['cases']:
        key = case['key']
        leaves = {k: v.clone().requires_grad_() for k, v in inp['tensors'].items() if v.is_floating_point()}
        try:
            rs = as_list(eval(case['expr'], scope({**inp['tensors'], **leaves})))
            loss = sum((x * weights_like(x)).sum() for x in rs)
            names = list(leaves)
            grads = torch.autograd.grad(loss, [leaves[k] for k in names], allow_unused=True)
            for k, g in zip(names, grads):
                if g is not None:
                    out['%s.%s' % (key, k)] = g
        except Exception as e:
            out[key + '.error'] = repr(e)
    return out


def grad_of_two_outputs(inp):
    """torch.autograd.grad of [tanh(x @ w), sum(x^2)] with respect to x and w, with grad_outputs [v, 0.5]."""
    x = inp['x'].requires_grad_()
    w = inp['w'].requires_grad_()
    gx, gw = torch.autograd.grad([(x @ w).tanh(), (x ** 2).sum()], [x, w], [inp['v'], torch.tensor(0.5)])
    return {'gx': gx, 'gw': gw}


def seeded_draws(inp):
    torch.manual_seed(inp['seed'])
    return {'u': torch.rand(5), 'z': torch.randn(20), 'p': torch.randperm(10)}


if __name__ == '__main__':
    serve({'table': table, 'table_gradients': table_gradients, 'grad_of_two_outputs': grad_of_two_outputs, 'seeded_draws': seeded_draws})
