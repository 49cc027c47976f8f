"""Training-method oracles on the fixture of fixture.py: CAG, the baselines' generation
and losses, standard training, the D2R loss (docs/method.md) and one D2R training step."""
import torch
import torch.nn.functional as F

from fixture import Fixture, grads
from oracle_io import serve


def cag(inp):
    f = Fixture(inp)
    return {'adv': f.kl_ascent(f.G, inp['init'], inp['eps'], inp['step'], inp['steps'], inp['norm'])}


def generate(f, inp):
    """x' from inp['init'] by L-inf ascent of 'kl' (to T's clean prediction: TRADES, LBGAT) or 'ce' (PGD-AT, MART)."""
    eps, step, steps = inp['eps'], inp['step'], inp['steps']
    if inp['generation'] == 'kl':
        return f.kl_ascent(f.T, inp['init'], eps, step, steps, 'linf')
    f.T.eval()
    return f.ascend(lambda a: F.cross_entropy(f.T(a), f.y, reduction='sum'), inp['init'], eps, step, steps, 'linf')


def baseline_loss(method, f, xa):
    T, G, x, y = f.T, f.G, f.x, f.y
    if method == 'pgd-at':
        return F.cross_entropy(T(xa), y)
    if method == 'trades':
        # The reference's passes: T(x) for the CE, then T(x') and T(x) again for the KL.
        zc = T(x)
        za = T(xa)
        return F.cross_entropy(zc, y) + 6.0 * F.kl_div(F.log_softmax(za, 1), F.softmax(T(x), 1), reduction='batchmean')
    if method == 'mart':
        zc, za = T(x), T(xa)
        pa = F.softmax(za, 1)
        top2 = torch.argsort(pa, dim=1)[:, -2:]
        best_wrong = torch.where(top2[:, -1] == y, top2[:, -2], top2[:, -1])
        loss_adv = F.cross_entropy(za, y) + F.nll_loss(torch.log(1.0001 - pa + 1e-12), best_wrong)
        pc = F.softmax(zc, 1)
        p_true = torch.gather(pc, 1, y.unsqueeze(1)).squeeze()
        kl = torch.sum(F.kl_div(torch.log(pa + 1e-12), pc, reduction='none'), dim=1)
        return loss_adv + 6.0 * (1.0 / x.shape[0]) * torch.sum(kl * (1.0000001 - p_true))
    if method in ('lbgat', 'lbgat0'):
        # The reference's passes: T(x'), T(x), G(x); LBGAT0 runs T(x) too.
        zTa, zTc, zGc = T(xa), T(x), G(x)
        beta = 6.0 if method == 'lbgat' else 0.0
        return F.cross_entropy(zGc, y) + F.mse_loss(zTa, zGc) + beta * F.kl_div(F.log_softmax(zTa, 1), F.softmax(zTc, 1), reduction='batchmean')
    raise ValueError('unknown baseline %r' % method)


def baseline(inp):
    """The method's generation from inp['init'], then its loss on inp['xa'] in train mode and the gradients."""
    f = Fixture(inp)
    adv = generate(f, inp)
    f.T.train()
    f.G.train()
    models = {'T.': f.T, 'G.': f.G} if inp['two_models'] else {'T.': f.T}
    out = {'adv': adv, **grads(baseline_loss(inp['method'], f, inp['xa']), models)}
    # BatchNorm statistics after the loss's passes: they show which passes ran in train mode.
    for prefix, m in {'T.': f.T, 'G.': f.G}.items():
        for n, b in m.named_buffers():
            if b.is_floating_point():
                out['buffer.' + prefix + n] = b
    return out


def generation(inp):
    return {'adv': generate(Fixture(inp), inp)}


def standard(inp):
    f = Fixture(inp)
    f.T.train()
    return grads(F.cross_entropy(f.T(f.x), f.y), {'T.': f.T})


def d2r_loss(f, xadv, zGc=None, mse=1.0, clean=20.0, adv=30.0, reduction='reference'):
    """L as the spec writes it, for zTa = T(x'), zTc = T(x), zGc = G(x) (or given G logits)."""
    def k_reference(a, b):
        return (b * (torch.log(b + 1e-5) - a)).mean()

    def k_batchmean(a, b):
        return F.kl_div(a, b, reduction='batchmean')
    k = k_reference if reduction == 'reference' else k_batchmean
    zTa, zTc = f.T(xadv), f.T(f.x)
    if zGc is None:
        zGc = f.G(f.x)
    lpT, lpG, pT, pG = F.log_softmax(zTc, 1), F.log_softmax(zGc, 1), F.softmax(zTc, 1), F.softmax(zGc, 1)
    return (F.cross_entropy(zGc, f.y) + mse * F.mse_loss(zTa, zGc)
            + clean * torch.abs(k(lpG, pT) - k(lpT, pG)) + adv * k(lpG, F.softmax(zTa, 1)))


def d2r(inp):
    """The D2R loss on inp['xadv'] with inp['weights'] (mse, clean, adv, reduction): in 'train' mode with the
    gradients of both models, in 'eval' mode the value only, or with a 'frozen' guidance (eval mode, no gradient)."""
    f = Fixture(inp)
    weights = inp.get('weights', {})
    if inp['mode'] == 'eval':
        f.T.eval()
        f.G.eval()
        return {'loss': d2r_loss(f, inp['xadv'], **weights)}
    if inp['mode'] == 'frozen':
        f.G.eval()
        with torch.no_grad():
            zGc = f.G(f.x)
        f.T.train()
        return grads(d2r_loss(f, inp['xadv'], zGc=zGc, **weights), {'T.': f.T})
    f.T.train()
    f.G.train()
    return grads(d2r_loss(f, inp['xadv'], **weights), {'T.': f.T, 'G.': f.G})


def d2r_step(inp):
    """CAG from inp['init'], then one SGD step (inp['sgd']) over both models on the D2R loss; x' and both state dicts."""
    f = Fixture(inp)
    xadv = f.kl_ascent(f.G, inp['init'], inp['eps'], inp['step'], inp['steps'], 'linf')
    f.T.train()
    f.G.train()
    opt = torch.optim.SGD(list(f.T.parameters()) + list(f.G.parameters()), **inp['sgd'])
    opt.zero_grad()
    d2r_loss(f, xadv).backward()
    opt.step()
    out = {'xadv': xadv}
    for prefix, m in (('T.', f.T), ('G.', f.G)):
        for n, v in m.state_dict().items():
            out[prefix + n] = v
    return out


if __name__ == '__main__':
    serve({'cag': cag, 'baseline': baseline, 'generation': generation, 'standard': standard, 'd2r': d2r, 'd2r_step': d2r_step})
