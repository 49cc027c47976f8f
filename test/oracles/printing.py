"""Printing oracle for test/engine/format.test.ts: PyTorch's repr of each tensor in
inp['tensors'], with the default print options."""
import torch

from oracle_io import serve


def reprs(inp):
    torch.set_printoptions(profile='default')
    return {'reprs': [repr(t) for t in inp['tensors']]}


serve({'reprs': reprs})
