"""A user's own architecture trained by d2r, for test/train/scriptedTraining.test.ts and
test/cli/trainTorchScript.test.ts: a tiny scripted network that is not in the zoo, PyTorch's
own SGD steps on it, and the logits of the TorchScript files d2r writes."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from oracle_io import serve


class TinyNet(nn.Module):
    """Not in the zoo: a strided conv with batch norm and dropout, a depthwise conv, max and mean pooled heads.
    Deterministic (norm=False, dropout=0), it trains alike on one process and on several."""
    def __init__(self, channels, classes, norm=True, dropout=0.25):
        super().__init__()
        self.conv = nn.Conv2d(channels, 4, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(4) if norm else nn.Identity()
        self.depthwise = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        h = F.relu(self.bn(self.conv(x)))
        h = F.gelu(self.depthwise(h)) + h
        pooled = torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], 1)
        return self.fc(self.drop(pooled))


def make_script(inp):
    """Scripts a seeded TinyNet (deterministic when `deterministic` is given and true) and saves it to `path`."""
    torch.manual_seed(inp['seed'])
    deterministic = inp.get('deterministic', False)
    net = TinyNet(inp['channels'], inp['classes'], norm=not deterministic, dropout=0.0 if deterministic else 0.25)
    torch.jit.script(net).save(inp['path'])
    return {}


def sgd_steps(inp):
    """Loads the script, and in eval mode (no dropout draw; batch norm on its running statistics)
    takes one SGD step (lr, momentum, weight decay) per batch on the mean cross-entropy; returns its state."""
    net = torch.jit.load(inp['path'])
    net.eval()
    opt = torch.optim.SGD(net.parameters(), lr=inp['lr'], momentum=inp['momentum'], weight_decay=inp['weight_decay'])
    for x, y in zip(inp['xs'], inp['ys']):
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return dict(net.state_dict())


def script_logits(inp):
    """The eval-mode logits of a TorchScript file (one d2r wrote) on `x`."""
    net = torch.jit.load(inp['path'])
    net.eval()
    with torch.no_grad():
        return {'logits': net(inp['x'])}


serve({'make_script': make_script, 'sgd_steps': sgd_steps, 'script_logits': script_logits})
