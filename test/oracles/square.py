"""Square attack oracles: a transcription of the reference's pieces (fra31/auto-attack,
square.py) with the random draws passed in: U[i] = 5 uniforms per query (corners,
then transpose), SG the signs."""
import math
from collections import OrderedDict

import torch
import torch.nn as nn

from oracle_io import serve


def p_sel(p_init, it, n_queries):
    """The reference's schedule: p_init halved at each boundary passed, on a 10000-query scale."""
    it = int(it / n_queries * 10000)
    for halvings, bound in enumerate([10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000]):
        if it <= bound:
            return p_init / 2 ** halvings
    return p_init / 512


def side_of(norm, p, c, h, w):
    if norm == 'linf':
        s = max(int(round(math.sqrt(p * (c * h * w) / c))), 1)
    else:
        s = max(int(round(math.sqrt(p * (c * h * w) / c))), 3)
        if s % 2 == 0:
            s += 1
    return min(s, min(h, w))


def rect(a, b):
    d = torch.zeros([a, b])
    ca, cb = a // 2 + 1, b // 2 + 1
    r0, r1 = ca - 1, cb - 1
    for k in range(max(ca, cb)):
        d[max(r0, 0):min(r0 + 2 * k + 1, a), max(0, r1):min(r1 + 2 * k + 1, b)] += 1.0 / (k + 1) ** 2
        r0 -= 1
        r1 -= 1
    return d / (d ** 2).sum(dim=(0, 1), keepdim=True).sqrt()


def eta(s, flip):
    d = torch.zeros([s, s])
    d[:s // 2] = rect(s // 2, s)
    d[s // 2:] = -1. * rect(s - s // 2, s)
    d = d / (d ** 2).sum(dim=(0, 1), keepdim=True).sqrt()
    return d.permute([1, 0]) if flip else d


def l2n(t):
    return (t ** 2).view(t.shape[0], -1).sum(-1).sqrt().view(-1, 1, 1, 1)


def linf_start(x, eps, sg):
    return torch.clamp(x + eps * sg, 0., 1.)


def l2_start(x, eps, sg, flags):
    n, c, h, w = x.shape
    s = h // 5
    sp = (h - s * 5) // 2
    d = torch.zeros_like(x)
    t = 0
    vh = sp
    for _ in range(h // s):
        vw = sp
        for _ in range(w // s):
            d[:, :, vh:vh + s, vw:vw + s] += eta(s, flags[t]).view(1, 1, s, s) * sg[t].view(n, c, 1, 1)
            t += 1
            vw += s
        vh += s
    return torch.clamp(x + d / (l2n(d) + 1e-12) * eps, 0., 1.)


def linf_prop(xb, xc, eps, vh, vw, s, sg):
    c, h, w = xc.shape[1:]
    nd = torch.zeros([c, h, w])
    nd[:, vh:vh + s, vw:vw + s] = 2. * eps * sg.view(c, 1, 1)
    return torch.clamp(torch.min(torch.max(xb + nd, xc - eps), xc + eps), 0., 1.)


def l2_prop(xb, xc, eps, vh, vw, vh2, vw2, s, flip, sg):
    n, c, h, w = xc.shape
    dc = xb - xc
    m1 = torch.zeros_like(xc)
    m1[:, :, vh:vh + s, vw:vw + s] = 1.
    nw1 = (dc[:, :, vh:vh + s, vw:vw + s] ** 2).sum(dim=(-2, -1), keepdim=True).sqrt()
    m2 = torch.zeros_like(xc)
    m2[:, :, vh2:vh2 + s, vw2:vw2 + s] = 1.
    ni = l2n(dc)
    nws = ((dc * torch.max(m1, m2)) ** 2).sum(dim=(-2, -1), keepdim=True).sqrt()
    nd = torch.ones([n, c, s, s]) * (eta(s, flip).view(1, 1, s, s) * sg.view(n, c, 1, 1))
    nd = nd + dc[:, :, vh:vh + s, vw:vw + s] / (1e-12 + nw1)
    nd = nd / (1e-12 + (nd ** 2).sum(dim=(-2, -1), keepdim=True).sqrt()) * (
        torch.max(eps ** 2 - ni ** 2, torch.zeros_like(ni)) / c + nws ** 2).sqrt()
    dc[:, :, vh2:vh2 + s, vw2:vw2 + s] = 0.
    dc[:, :, vh:vh + s, vw:vw + s] = nd
    return torch.clamp(xc + dc / (l2n(dc) + 1e-12) * eps, 0., 1.)


def margin_of(z, yy):
    u = torch.arange(z.shape[0])
    zy = z[u, yy].clone()
    z = z.clone()
    z[u, yy] = -float('inf')
    return zy - z.max(dim=-1)[0]


def start_of(x, norm, eps, sg0, flags):
    return linf_start(x, eps, sg0) if norm == 'linf' else l2_start(x, eps, sg0, flags)


def square_run(model, x, y, norm, eps, n_queries, p_init, sg0, flags, U, SG):
    n, c, h, w = x.shape
    xb = start_of(x, norm, eps, sg0, flags)
    mm = margin_of(model(xb), y)
    for i in range(n_queries):
        idx = (mm > 0.0).nonzero().flatten()
        if idx.numel() == 0:
            break
        s = side_of(norm, p_sel(p_init, i, n_queries), c, h, w)
        u = [float(v) for v in U[i]]
        vh, vw = int(u[0] * (h - s)), int(u[1] * (w - s))
        xc, xbc, mc = x[idx], xb[idx], mm[idx]
        if norm == 'linf':
            xn = linf_prop(xbc, xc, eps, vh, vw, s, SG[i])
        else:
            xn = l2_prop(xbc, xc, eps, vh, vw, int(u[2] * (h - s)), int(u[3] * (w - s)), s, u[4] > 0.5, SG[i][idx])
        m = margin_of(model(xn), y[idx])
        imp = torch.max((m < mc).float(), (m <= 0.).float())
        mm[idx] = imp * m + (1. - imp) * mc
        imp = imp.view(-1, 1, 1, 1)
        xb[idx] = imp * xn + (1. - imp) * xbc
    return xb, mm


def schedule(inp):
    """The p schedule of every query of each budget, the side of each [norm, p, c, h, w], the patterns of sides 1..11."""
    return {
        'p': torch.tensor([p_sel(inp['p_init'], i, n) for n in inp['budgets'] for i in range(n)], dtype=torch.float64),
        'sides': torch.tensor([side_of(*k) for k in inp['side_cases']], dtype=torch.float64),
        'eta': torch.cat([eta(s, f).flatten() for s in range(1, 12) for f in (False, True)]),
    }


def updates(inp):
    """For each image set: both start points, then a chain of window updates from each (results '<norm><k><name>')."""
    out = {}
    for case in inp['cases']:
        name, x, eps, l2eps = case['name'], case['x'], case['eps'], case['l2eps']
        a = linf_start(x, eps, case['linf_signs'])
        b = l2_start(x, l2eps, case['tile_signs'], case['flags'])
        out['linf0' + name], out['l20' + name] = a, b
        for k, wd in enumerate(case['windows']):
            a = linf_prop(a, x, eps, wd['row'], wd['col'], wd['side'], wd['channel_signs'])
            b = l2_prop(b, x, l2eps, wd['row'], wd['col'], wd['row2'], wd['col2'], wd['side'], wd['flip'], wd['point_signs'])
            out['linf%d%s' % (k + 1, name)], out['l2%d%s' % (k + 1, name)] = a, b
    return out


def runs(inp):
    """Runs of a linear classifier (state 'fc.*'), each with its draws; the start margins and the results."""
    torch.set_grad_enabled(False)
    fc = inp['fc.weight'].shape
    model = nn.Sequential(OrderedDict(flat=nn.Flatten(), fc=nn.Linear(fc[1], fc[0])))
    model.load_state_dict({k: v for k, v in inp.items() if k.startswith('fc.')})
    x, y = inp['x'], inp['y']
    out = {}
    for r in inp['runs']:
        norm = r['norm']
        out['start' + norm] = margin_of(model(start_of(x, norm, r['eps'], r['sg0'], r['flags'])), y)
        out['adv' + norm], out['margin' + norm] = square_run(
            model, x, y, norm, r['eps'], inp['queries'], inp['p_init'], r['sg0'], r['flags'], r['U'], r['SG'])
    return out


if __name__ == '__main__':
    serve({'schedule': schedule, 'updates': updates, 'runs': runs})
