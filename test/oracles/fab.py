"""FAB-T oracles: the reference's (fra31/auto-attack) two box-constrained hyperplane
projections, one row at a time (the reference handles the cases on row subsets;
we compute every case for every row, and count which case each row falls in),
and its targeted run and perturb loop on the fixture net T in eval mode."""
import math

import torch

from fixture import Fixture
from oracle_io import serve


def halvings(n):
    return math.ceil(math.log2(n))


def row_linf(t, w, b):
    n = t.numel()
    if (w * t).sum() - b < 0:
        w, b = -w, -b
    on = (w != 0).to(t.dtype)
    face = (w < 0).to(t.dtype)
    step = (face - t) * on
    room = face - t * (2 * face - 1)
    up = torch.argsort(room)
    down = up.flip(0)
    need = b - (w * t).sum()
    whole = (w * step).sum()
    mass = torch.cumsum(w[down].abs(), 0)
    moved = torch.cumsum(-w[down] * step[down], 0) + whole
    if need - (moved[-1] - mass[-1] * room[up[0]]) > 0:
        lam = torch.clamp((need - moved[-1]) / (-mass[-1]), min=0)
        return (2 * face - 1) * lam * on, 0
    if need - whole > 0:
        lo, hi = 0, n - 1
        for _ in range(halvings(n)):
            mid = (lo + hi) // 2
            if need - (moved[mid] - mass[mid] * room[up[n - 1 - mid]]) > 0:
                lo = mid
            else:
                hi = mid
        lam = torch.clamp((need - moved[lo]) / (-mass[lo]), min=0)
        return (torch.min(lam, step) * face + torch.max(-lam, step) * (1 - face)) * on, 1
    return step * on, 2


def row_l2(t, w, b):
    n = t.numel()
    c = (w * t).sum() - b
    if c < 0:
        w, c = -w, -c
    on = (w.abs() > 1e-8).to(t.dtype)
    big = 1e12
    r = torch.max(t / w, (t - 1) / w).clamp(-big, big)
    r[w.abs() < 1e-8] = big
    r[r == -big] = big
    rs, order = torch.sort(r)
    rs2 = torch.cat([rs[1:], rs.new_zeros(1)])
    rs[rs == big] = 0
    rs2[rs2 == big] = 0
    sq = (w ** 2)[order]
    tot = sq.sum()
    rest = tot - torch.cumsum(sq, 0)
    step = -(r * w) * on
    left = torch.cat([(-tot * rs[0]).reshape(1), torch.cumsum((rs - rs2) * rest, 0) - tot * rs[0]])
    if left[0] + c < 0:
        return -(c / tot) * w * on, 0
    if (step * w).sum() + c > 0:
        return step * on, 2
    lo, hi = 0, n - 1
    for _ in range(halvings(n)):
        mid = (lo + hi) // 2
        if left[mid] + c > 0:
            lo = mid
        else:
            hi = mid
    lam = torch.zeros((), dtype=t.dtype) if rest[lo] == 0 else (left[lo] + c) / rest[lo] + rs[lo]
    free = (lam > r).to(t.dtype)
    return (step * free - lam * w * (1 - free)) * on, 1


def rows(fn, t, w, b):
    got = [fn(t[i], w[i], b[i]) for i in range(t.shape[0])]
    cases = torch.zeros(3)
    for _, k in got:
        cases[k] += 1
    return torch.stack([d for d, _ in got]), cases


def projections(inp):
    """Both projections of every row of each named set (inputs '<name>_t', '<name>_w', '<name>_b')."""
    out = {}
    for name in inp['sets']:
        t, w, b = inp[name + '_t'], inp[name + '_w'], inp[name + '_b']
        out[name + '_linf'], out[name + '_linf_cases'] = rows(row_linf, t, w, b)
        out[name + '_l2'], out[name + '_l2_cases'] = rows(row_l2, t, w, b)
    return out


def size_of(v, norm):
    v = v.flatten(1)
    return v.abs().max(1)[0] if norm == 'linf' else (v ** 2).sum(1).sqrt()


def fab_run(T, x0, lab, tgt, steps, norm, alpha_max, eta, beta):
    """The reference's attack_single_run, targeted, without a random start."""
    n = x0.shape[0]
    idx = torch.arange(n)
    cur = x0.clone()
    best = x0.clone()
    best_size = torch.full([n], 1e10)
    row = row_linf if norm == 'linf' else row_l2
    for _ in range(steps):
        a = cur.clone().requires_grad_()
        z = T(a)
        gap = z[idx, tgt] - z[idx, lab]
        g, = torch.autograd.grad(gap.sum(), [a])
        with torch.no_grad():
            w = g.flatten(1)
            b = -gap.detach() + (w * cur.flatten(1)).sum(1)
            d, _ = rows(row, torch.cat([cur.flatten(1), x0.flatten(1)]), torch.cat([w, w]), torch.cat([b, b]))
            d_cur, d_x0 = d[:n].view_as(x0), d[n:].view_as(x0)
            lens = torch.clamp(size_of(d, norm), min=1e-8)
            alpha = torch.clamp(lens[:n] / (lens[:n] + lens[n:]), 0, alpha_max).view(-1, 1, 1, 1)
            cur = ((cur + eta * d_cur) * (1 - alpha) + (x0 + d_x0 * eta) * alpha).clamp(0, 1)
            hit = T(cur).argmax(1) != lab
            dist = size_of(cur - x0, norm)
            better = hit & (dist < best_size)
            best[better] = cur[better]
            best_size[better] = dist[better]
            cur[hit] = x0[hit] + (cur[hit] - x0[hit]) * beta
    return cur, best, best_size < 1e10


def fab_t(T, xx, lab, eps, norm, steps, n_targets, run):
    """The reference's targeted perturb loop: the k-th most likely class as target, k = 2 .. n_targets + 1."""
    with torch.no_grad():
        z = T(xx)
    order = z.sort(1)[1]
    robust = z.argmax(1) == lab
    adv = xx.clone()
    for k in range(2, n_targets + 2):
        todo = robust.nonzero()[:, 0]
        if len(todo) == 0:
            break
        xs, ys = xx[todo], lab[todo]
        _, best, _ = fab_run(T, xs, ys, order[todo, -k], steps, norm, **run)
        with torch.no_grad():
            ok = (T(best).argmax(1) != ys) & (size_of(best - xs, norm) <= eps)
        adv[todo[ok]] = best[ok]
        robust[todo[ok]] = False
    return adv


def fab(inp):
    """For each norm: one run from the clean points (labels 'predicted', targets 'second'), and FAB-T on 'labels'."""
    f = Fixture(inp)
    f.T.eval()
    run = {'alpha_max': inp['alpha_max'], 'eta': inp['eta'], 'beta': inp['beta']}
    out = {}
    for norm in ['linf', 'l2']:
        out[norm + '_iterate'], out[norm + '_best'], out[norm + '_found'] = fab_run(
            f.T, f.x, inp['predicted'], inp['second'], inp['steps'], norm, **run)
        out[norm + '_adv'] = fab_t(f.T, f.x, inp['labels'], inp['budget'][norm], norm, inp['loop_steps'], inp['targets'], run)
    return out


if __name__ == '__main__':
    serve({'projections': projections, 'fab': fab})
