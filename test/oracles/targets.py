"""Oracles of the attacks with chosen targets on the fixture of fixture.py: targeted PGD
(descending the summed CE to the target, torchattacks' targeted mode) and the least-likely targets."""
import torch
import torch.nn.functional as F

from fixture import Fixture
from oracle_io import serve


def pgd_targeted(inp):
    """PGD from inp['init'] on T in eval mode, ascending -CE(T(a), target)."""
    f = Fixture(inp)
    f.T.eval()
    target = inp['target']
    return {'adv': f.ascend(lambda a: -F.cross_entropy(f.T(a), target, reduction='sum'), inp['init'], inp['eps'], inp['step'],
                            inp['steps'], inp['norm'])}


def least_likely(inp):
    f = Fixture(inp)
    f.T.eval()
    with torch.no_grad():
        return {'target': f.T(f.x).argmin(1)}


if __name__ == '__main__':
    serve({'pgd_targeted': pgd_targeted, 'least_likely': least_likely})
