"""The official D2R evaluation's PGD and CW (auto_attack_eval1.py: attack_pgd, cw_Linf_attack), written from its facts.

One restart from a given start (the official code draws delta uniformly in [-eps, eps] and clamps x + delta to
[0, 1]; the start comes in as `init` so both engines begin at the same point). Each step runs the model (eval mode)
on the whole batch, keeps the indices still classified correctly (stops when none is), ascends the batch MEAN loss
(cross-entropy, or CW's negative margin -(z_y - max_{j != y} z_j)), and moves only the kept points by
alpha * sign(grad), clamped to the eps-ball and to [0, 1]. The last restart's delta is the answer (with one restart,
`all_loss >= max_loss` with max_loss = 0 always holds).
"""
import torch
import torch.nn.functional as F

from fixture import Fixture
from oracle_io import serve


def cw_loss(z, y):
    """The official CW_loss: the batch mean of -(z_y - z_other), z_other the top logit that is not y."""
    z_sorted, ind_sorted = z.sort(dim=1)
    top_is_y = (ind_sorted[:, -1] == y).float()
    other = z_sorted[:, -2] * top_is_y + z_sorted[:, -1] * (1.0 - top_is_y)
    return -(z[torch.arange(z.shape[0]), y] - other).mean()


def reference_attack(inp):
    f = Fixture(inp)
    T, X, y = f.T, f.x, f.y
    T.eval()
    eps, alpha = inp['eps'], inp['step']
    loss_fn = cw_loss if inp['loss'] == 'margin' else (lambda z, t: F.cross_entropy(z, t))
    delta = torch.clamp(inp['init'] - X, -eps, eps)
    delta = torch.max(torch.min(delta, 1 - X), 0 - X)
    delta.requires_grad = True
    moved = torch.zeros(len(y))
    for _ in range(inp['steps']):
        output = T(X + delta)
        index = torch.where(output.max(1)[1] == y)
        if len(index[0]) == 0:
            break
        loss = loss_fn(output, y)
        loss.backward()
        g = delta.grad.detach()[index[0]]
        d = delta[index[0]]
        d = torch.clamp(d + alpha * torch.sign(g), -eps, eps)
        d = torch.max(torch.min(d, 1 - X[index[0]]), 0 - X[index[0]])
        delta.data[index[0]] = d
        moved[index[0]] += 1
        delta.grad.zero_()
    return {'adv': (X + delta).detach(), 'moved': moved}


if __name__ == '__main__':
    serve({'reference_attack': reference_attack})
