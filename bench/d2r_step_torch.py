# The PyTorch side of bench/d2r-step.ts: a long-lived process that runs one D2R
# training step per request line on stdin and answers the milliseconds it took.
# A transcription of the method spec: CAG (10 steps) + D2R loss + one SGD step
# over a PreActResNet-18 target and a ResNet-18 guidance model.
import sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F
from d2r_torch import cag, d2r_loss

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)

class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin); self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout); self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False)) if stride != 1 or cin != cout else None
    def forward(self, x):
        out = F.relu(self.bn1(x))
        sc = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + sc

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else nn.Sequential()
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

def resnet(block, strides, preact):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            if not preact: self.bn1 = nn.BatchNorm2d(64)
            layers, cin = [], 64
            for i, (cout, s) in enumerate(zip([64, 128, 256, 512], strides)):
                setattr(self, 'layer%d' % (i + 1), nn.Sequential(block(cin, cout, s), block(cout, cout, 1))); cin = cout
            if preact: self.bn = nn.BatchNorm2d(512)
            self.linear = nn.Linear(512, 10)
        def forward(self, x):
            out = self.conv1(x)
            if not preact: out = F.relu(self.bn1(out))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            if preact: out = F.relu(self.bn(out))
            out = F.adaptive_avg_pool2d(out, 1).flatten(1)
            return self.linear(out)
    return Net()

preact = resnet(PreActBlock, [1, 2, 2, 2], True)
guide = resnet(BasicBlock, [1, 1, 2, 2], False)
xr, yr = torch.rand(32, 3, 32, 32), torch.randint(0, 10, (32,))
d2r_opt = torch.optim.SGD(list(preact.parameters()) + list(guide.parameters()), lr=0.1, momentum=0.9, weight_decay=2e-4)

def d2r_step():
    preact.eval(); guide.eval()
    xa = cag(preact, guide, xr, 8 / 255, 2 / 255, 10)
    preact.train(); guide.train()
    d2r_opt.zero_grad()
    d2r_loss(preact(xa), preact(xr), guide(xr), yr).backward(); d2r_opt.step()

print('ready', flush=True)
for line in sys.stdin:
    t = time.perf_counter(); d2r_step(); ms = (time.perf_counter() - t) * 1000
    print('%.4f' % ms, flush=True)
