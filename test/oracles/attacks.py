"""Attack oracles on the fixture of fixture.py: projections, losses, PGD and one APGD run."""
import torch
import torch.nn.functional as F

from fixture import Fixture, kl_to, margin
from oracle_io import serve


def project(inp):
    return {'p': Fixture(inp).project(inp['far'], inp['eps'], inp['norm'])}


def margin_and_ce(inp):
    """The margin, the summed CE, and the gradients of the attack objectives (-margin summed, CE summed)."""
    z = inp['z'].requires_grad_()
    y = inp['y']
    m = margin(z, y)
    ce = F.cross_entropy(z, y, reduction='sum')
    return {'margin': m, 'margin_grad': torch.autograd.grad(-m.sum(), [z])[0], 'ce': ce, 'ce_grad': torch.autograd.grad(ce, [z])[0]}


def kl_to_reference(inp):
    z = inp['z'].requires_grad_()
    kl = kl_to(inp['p'], z)
    return {'kl': kl, 'grad': torch.autograd.grad(kl, [z])[0]}


def pgd(inp):
    """PGD from the start inp['init'] on T in eval mode; loss 'ce', 'margin' or 'kl' (to T's clean prediction)."""
    f = Fixture(inp)
    T, y = f.T, f.y
    if inp['loss'] == 'kl':
        return {'adv': f.kl_ascent(T, inp['init'], inp['eps'], inp['step'], inp['steps'], inp['norm'])}
    T.eval()

    def objective(a):
        z = T(a)
        return F.cross_entropy(z, y, reduction='sum') if inp['loss'] == 'ce' else -margin(z, y).sum()
    return {'adv': f.ascend(objective, inp['init'], inp['eps'], inp['step'], inp['steps'], inp['norm'])}


def dlr(inp):
    """The sort-based DLR and targeted DLR losses."""
    z, y, t = inp['z'], inp['y'], inp['t']
    s, order = z.sort(dim=1)
    u = torch.arange(z.shape[0])
    top_is_y = (order[:, -1] == y).float()
    return {
        'dlr': -(z[u, y] - s[:, -2] * top_is_y - s[:, -1] * (1 - top_is_y)) / (s[:, -1] - s[:, -3] + 1e-12),
        'dlrt': -(z[u, y] - z[u, t]) / (s[:, -1] - 0.5 * (s[:, -3] + s[:, -4]) + 1e-12),
    }


def apgd_run(inp):
    """A transcription of the reference's single APGD run (momentum, checkpoints,
    oscillation count with its wrap-around read, restart from the best point),
    on T in eval mode with loss 'ce' or 'dlr-t' (targets inp['tgt'])."""
    f = Fixture(inp)
    T, x, y, t = f.T, f.x, f.y, inp['tgt']
    T.eval()
    eps, norm, n_iter, rho = inp['eps'], inp['norm'], inp['steps'], 0.75

    def loss_fn(z):
        if inp['loss'] == 'ce':
            return F.cross_entropy(z, y, reduction='none')
        s = z.sort(dim=1)[0]
        u = torch.arange(z.shape[0])
        return -(z[u, y] - z[u, t]) / (s[:, -1] - 0.5 * (s[:, -3] + s[:, -4]) + 1e-12)

    def unit(v, kind):
        size = v.abs().flatten(1).max(1)[0] if kind == 'linf' else v.flatten(1).norm(dim=1)
        return v / (size.view(-1, 1, 1, 1) + 1e-12)

    def proj(a):
        if norm == 'linf':
            return torch.clamp(torch.min(torch.max(a, x - eps), x + eps), 0, 1)
        d = a - x
        return torch.clamp(x + unit(d, 'l2') * torch.clamp(d.flatten(1).norm(dim=1), max=eps).view(-1, 1, 1, 1), 0, 1)

    def at(a):
        a = a.clone().requires_grad_()
        z = T(a)
        l = loss_fn(z)
        g, = torch.autograd.grad(l.sum(), [a])
        return z.detach(), l.detach(), g.detach()

    n = x.shape[0]
    adv = inp['start'].clamp(0, 1)
    z, l, g = at(adv)
    best, g_best, l_best, fooled_at = adv.clone(), g.clone(), l.clone(), adv.clone()
    robust = z.argmax(1) == y
    step = 2 * eps * torch.ones(n, 1, 1, 1)
    old = adv.clone()
    losses = torch.zeros(n_iter, n)
    k = max(int(0.22 * n_iter), 1)
    k_min = max(int(0.06 * n_iter), 1)
    k_dec = max(int(0.03 * n_iter), 1)
    since = 0
    l_check = l_best.clone()
    reduced = torch.ones(n)
    for i in range(n_iter):
        move = adv - old
        old = adv.clone()
        a = 0.75 if i > 0 else 1.0
        d = torch.sign(g) if norm == 'linf' else unit(g, 'l2')
        s1 = proj(adv + step * d)
        adv = proj(adv + (s1 - adv) * a + move * (1 - a))
        z, l, g = at(adv)
        wrong = z.argmax(1) != y
        robust = robust & ~wrong
        fooled_at[wrong] = adv[wrong]
        losses[i] = l
        up = l > l_best
        best[up] = adv[up]
        g_best[up] = g[up]
        l_best[up] = l[up]
        since += 1
        if since == k:
            rises = torch.zeros(n)
            for c in range(k):
                rises += (losses[i - c] > losses[i - c - 1]).float()
            red = (rises <= k * rho).float()
            red = torch.max(red, (1 - reduced) * (l_check >= l_best).float())
            reduced = red.clone()
            l_check = l_best.clone()
            m = red > 0
            step[m] /= 2
            adv[m] = best[m]
            g[m] = g_best[m]
            k = max(k - k_dec, k_min)
            since = 0
    return {'adv': fooled_at, 'fooled': ~robust}


if __name__ == '__main__':
    serve({'project': project, 'margin_and_ce': margin_and_ce, 'kl_to_reference': kl_to_reference, 'pgd': pgd, 'dlr': dlr,
           'apgd_run': apgd_run})
