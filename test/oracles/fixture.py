"""The attack and method fixture of test/attacks/fixtures.ts on the PyTorch side.

The target T and guidance G are tiny conv nets (conv, BN, ReLU, flatten, linear)
loaded from the state dicts under 'T.' and 'G.', with the batch x, y; and the
spec's pieces: project (eps-ball, then [0, 1]), direction (sign or unit L2),
ascend (K steps of x' <- project(x' + alpha * direction(grad))) and grads
(the loss and each parameter's gradient).
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


def tiny_net(state):
    conv, fc = state['conv.weight'].shape, state['fc.weight'].shape
    m = nn.Sequential(OrderedDict(conv=nn.Conv2d(conv[1], conv[0], conv[2]), bn=nn.BatchNorm2d(conv[0]), relu=nn.ReLU(),
                                  flat=nn.Flatten(), fc=nn.Linear(fc[1], fc[0])))
    m.load_state_dict(state)
    return m


class Fixture:
    def __init__(self, inp):
        def state(prefix):
            return {k[len(prefix):]: v for k, v in inp.items() if k.startswith(prefix)}
        self.T = tiny_net(state('T.'))
        self.G = tiny_net(state('G.'))
        self.x = inp['x']
        self.y = inp['y']

    def project(self, a, eps, norm):
        x = self.x
        if norm == 'linf':
            a = torch.min(torch.max(a, x - eps), x + eps)
        else:
            d = a - x
            a = x + d * torch.clamp(eps / per_sample_norm(d), max=1.0)
        return torch.clamp(a, 0.0, 1.0)

    def ascend(self, objective, start, eps, alpha, steps, norm):
        a = start.detach()
        for _ in range(steps):
            a.requires_grad_()
            g, = torch.autograd.grad(objective(a), [a])
            a = self.project(a.detach() + alpha * direction(g, norm), eps, norm).detach()
        return a

    def kl_ascent(self, reference, start, eps, alpha, steps, norm):
        """The KL ascent of TRADES (reference T) and CAG (reference G): both models in eval mode, p_ref fixed."""
        self.T.eval()
        reference.eval()
        with torch.no_grad():
            p_ref = F.softmax(reference(self.x), dim=1)
        return self.ascend(lambda a: kl_to(p_ref, self.T(a)), start, eps, alpha, steps, norm)


def per_sample_norm(t):
    return t.flatten(1).norm(dim=1).view(-1, *([1] * (t.dim() - 1)))


def direction(g, norm):
    return torch.sign(g) if norm == 'linf' else g / (per_sample_norm(g) + 1e-12)


def kl_to(p_ref, logits):
    return (p_ref * (torch.log(p_ref + 1e-5) - F.log_softmax(logits, dim=1))).sum()


def margin(z, y):
    """z_y - max_{j != y} z_j per row."""
    others = z.clone()
    others[torch.arange(len(y)), y] = -float('inf')
    return z.gather(1, y[:, None])[:, 0] - others.max(1).values


def grads(loss, models):
    """Backpropagates loss; returns it and each parameter's gradient keyed '<prefix><name>'."""
    for m in models.values():
        for p in m.parameters():
            p.grad = None
    loss.backward()
    out = {'loss': loss}
    for prefix, m in models.items():
        for n, p in m.named_parameters():
            if p.grad is not None:
                out[prefix + n] = p.grad
    return out
