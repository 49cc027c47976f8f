# D2R in PyTorch for the benchmarks (bench/d2r_step_torch.py, bench/ddp_torch.py):
# a transcription of the method spec, CAG then the D2R loss.
import torch
import torch.nn.functional as F


def k(lp, p):
    return (p * (torch.log(p + 1e-5) - lp)).mean()


def cag(target, guide, x, eps, alpha, steps):
    """The adversarial batch (detached); the caller sets the models' modes."""
    with torch.no_grad():
        pg = F.softmax(guide(x), 1)
    xa = x + 0.001 * torch.randn_like(x)
    for _ in range(steps):
        xa.requires_grad_()
        loss = (pg * (torch.log(pg + 1e-5) - F.log_softmax(target(xa), 1))).sum()
        g, = torch.autograd.grad(loss, [xa])
        xa = torch.clamp(torch.min(torch.max(xa.detach() + alpha * g.sign(), x - eps), x + eps), 0, 1)
    return xa.detach()


def d2r_loss(zta, ztc, zgc, y):
    """From z_T(x'), z_T(x), z_G(x): CE + MSE + 20 |clean KL gap| + 30 adversarial KL."""
    lpt, lpg, pt, pgc = F.log_softmax(ztc, 1), F.log_softmax(zgc, 1), F.softmax(ztc, 1), F.softmax(zgc, 1)
    return F.cross_entropy(zgc, y) + F.mse_loss(zta, zgc) + 20 * torch.abs(k(lpg, pt) - k(lpt, pgc)) + 30 * k(lpg, F.softmax(zta, 1))
