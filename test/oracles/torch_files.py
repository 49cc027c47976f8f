"""PyTorch's own files for test/io/torchFiles.test.ts and test/models/torchScript.test.ts:
torch.save state dicts (plain, wrapped as published checkpoints wrap them, with the
DataParallel prefix), TorchScript modules of a network that is not in the zoo,
and torch.load of the files d2r writes."""
import os
import pickle
import zipfile

import torch
import torch.nn as nn
import torch.nn.functional as F

from oracle_io import serve
from reference_models import SmallCNN, WideResNet


class TwoPaths(nn.Module):
    """Not in the zoo: a residual conv path with tanh and average pooling beside a linear path."""
    def __init__(self, channels=3, classes=5):
        super().__init__()
        self.stem = nn.Conv2d(channels, 6, 3, padding=1)
        self.norm = nn.BatchNorm2d(6)
        self.mix = nn.Sequential(nn.Conv2d(6, 6, 1), nn.Tanh())
        self.head = nn.Linear(6 * 4 * 4, classes)
        self.skip = nn.Linear(channels * 8 * 8, classes, bias=False)

    def forward(self, x):
        h = self.norm(self.stem(x))
        h = F.avg_pool2d(h + self.mix(h), 2)
        return self.head(h.flatten(1)) + 0.5 * self.skip(x.flatten(1))


def script_two_paths(inp):
    """Scripts TwoPaths (eval mode), saves it, returns its logits and the input gradient of the summed cross-entropy."""
    torch.manual_seed(inp['seed'])
    net = TwoPaths()
    with torch.no_grad():
        net.norm.running_mean.uniform_(-0.5, 0.5)
        net.norm.running_var.uniform_(0.5, 1.5)
    net.eval()
    torch.jit.script(net).save(inp['path'])
    x = inp['x'].clone().requires_grad_(True)
    logits = net(x)
    F.cross_entropy(logits, inp['y'], reduction='sum').backward()
    return {'logits': logits, 'grad': x.grad}


def two_paths_train_step(inp):
    """Loads the saved script in train mode, one SGD step (lr 0.1) on the cross-entropy; returns the new state."""
    net = torch.jit.load(inp['path'])
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    F.cross_entropy(net(inp['x']), inp['y']).backward()
    opt.step()
    return {name: t for name, t in net.state_dict().items()}


def small_cnn_files(inp):
    """SmallCNN (MNIST) as TorchScript and as torch.save state dicts: plain, wrapped in a checkpoint with the DataParallel prefix."""
    torch.manual_seed(inp['seed'])
    net = SmallCNN().eval()
    torch.jit.script(net).save(inp['script'])
    torch.save(net.state_dict(), inp['plain'])
    wrapped = {'module.' + k: v for k, v in net.state_dict().items()}
    torch.save({'epoch': 7, 'state_dict': wrapped, 'best_acc': 0.5}, inp['wrapped'])
    return {'logits': net(inp['x'])}


def odd_files(inp):
    """torch.save files that are not dicts of tensors, and one dict whose tensors are views of one storage."""
    torch.save([torch.ones(2)], inp['list'])
    torch.save({'weight': torch.ones(2), 'lr': 0.1}, inp['mixed'])
    base = torch.arange(12.0)
    torch.save({'a': base[2:8].view(2, 3), 'b': base.view(3, 4).t()}, inp['views'])
    # A pickle that would run os.system('true') in Python's unpickler, in a torch.save-shaped archive.
    with zipfile.ZipFile(inp['system'], 'w', zipfile.ZIP_STORED) as z:
        z.writestr('archive/data.pkl', pickle.dumps(RunsCommand(), protocol=2))
    return {}


class RunsCommand:
    def __reduce__(self):
        return (os.system, ('true',))


def robustbench_wrn(inp):
    """RobustBench's WideResNet layout (TRADES' WideResNet with sub_block1=False) at a given depth and width,
    with random BatchNorm statistics, saved with torch.save as a DataParallel checkpoint; returns its eval logits."""
    torch.manual_seed(inp['seed'])
    net = WideResNet(depth=inp['depth'], widen_factor=inp['widen'])
    del net.sub_block1
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    net.eval()
    torch.save({'model': {'module.' + k: v for k, v in net.state_dict().items()}}, inp['path'])
    return {'logits': net(inp['x']), 'parameters': sum(p.numel() for p in net.parameters())}


def read_ours(inp):
    """torch.load of a file d2r wrote."""
    loaded = torch.load(inp['path'])
    assert type(loaded) in (dict, type(torch.nn.Module().state_dict())), type(loaded)
    return {'keys': list(loaded.keys()), **{'t.' + k: v for k, v in loaded.items()},
            **{'dtype.' + k: str(v.dtype).replace('torch.', '') for k, v in loaded.items()}}


serve({'script_two_paths': script_two_paths, 'two_paths_train_step': two_paths_train_step, 'small_cnn_files': small_cnn_files,
       'odd_files': odd_files, 'read_ours': read_ours, 'robustbench_wrn': robustbench_wrn})
