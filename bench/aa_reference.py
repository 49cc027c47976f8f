"""The reference AutoAttack's side of bench/aa-compare.ts: runs the reference
(imported from the folder given as `reference` in the input, never vendored)
on the model the TypeScript side attacks (a TorchScript file, or the MLP it
trained), with the same points, seed, norm, epsilon and version, and prints
what it found as JSON.

Input (stdin, the wire format of test/oracles/oracle_io.py): reference (the
folder holding the `autoattack` package), torchscript (a path) or weights
(fc1/fc2 state dict), x, y,
norm ('linf', 'l2', 'l1'), epsilon, version ('standard', 'plus', 'rand' or
'custom'), attacks (for custom), seed, individual (bool).
Output: clean accuracy, robust accuracy after each attack (from the
reference's log), the final per-point robust flags, and with individual the
per-point flags of each attack run alone. The flags are the reference's own
verdicts (its return_labels), not a new forward pass, which for a randomised
model would draw new randomness.
"""
import contextlib
import json
import os
import re
import sys
import tempfile

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'oracles'))
from oracle_io import decode, encode  # noqa: E402

NORMS = {'linf': 'Linf', 'l2': 'L2', 'l1': 'L1'}


def mlp(weights, features, hidden, classes):
    model = nn.Sequential()
    model.add_module('flat', nn.Flatten())
    model.add_module('fc1', nn.Linear(features, hidden))
    model.add_module('relu', nn.ReLU())
    model.add_module('fc2', nn.Linear(hidden, classes))
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.eval()


def main():
    inp = decode(json.load(sys.stdin))
    with contextlib.redirect_stdout(sys.stderr):  # the reference prints its progress
        out = evaluate(inp)
    json.dump(encode(out), sys.stdout)


def evaluate(inp):
    sys.path.insert(0, inp['reference'])
    from autoattack import AutoAttack  # noqa: E402 (the reference, from its folder)

    torch.set_num_threads(1)
    if 'torchscript' in inp:
        model = torch.jit.load(inp['torchscript']).eval()
    else:
        w = inp['weights']
        model = mlp(w, w['fc1.weight'].shape[1], w['fc1.weight'].shape[0], w['fc2.weight'].shape[0])
    x, y = inp['x'].float(), inp['y'].long()
    log = tempfile.NamedTemporaryFile('r', suffix='.log', delete=False)
    version = inp['version']
    adversary = AutoAttack(model, norm=NORMS[inp['norm']], eps=inp['epsilon'], seed=inp['seed'], version=version,
                           attacks_to_run=inp.get('attacks', []) if version == 'custom' else [], device='cpu',
                           log_path=log.name)
    for name, value in inp.get('overrides', {}).items():  # custom runs: the budgets of a version's row
        obj, attr = name.split('.')
        setattr(getattr(adversary, obj), attr, value)
    out = {}
    if inp.get('individual'):
        adv = adversary.run_standard_evaluation_individual(x, y, bs=len(y), return_labels=True)
        out['individual'] = {name: (labels == y).tolist() for name, (_, labels) in adv.items()}
    else:
        _, labels = adversary.run_standard_evaluation(x, y, bs=len(y), return_labels=True)
        out['robust'] = (labels == y).tolist()
        text = open(log.name).read()
        out['clean'] = float(re.search(r'initial accuracy: ([0-9.]+)%', text).group(1)) / 100
        out['after'] = {m.group(1).lower(): float(m.group(2)) / 100
                        for m in re.finditer(r'robust accuracy after ([A-Z-]+): ([0-9.]+)%', text)}
    os.unlink(log.name)
    return out


if __name__ == '__main__':
    main()
