#!/usr/bin/python3
"""Golden values for the model zoo: reference networks written by us from ../shared/spec/methods.md §2
(and torchvision's ImageNet ResNet layout), filled with deterministic weights that Distill recreates with
the same libtorch ops, run in eval mode on an input made by a rule too (sin(linspace(0, 1, n) * 77)). Records every state_dict key and shape (what a
strict load checks), the logits, and a summary of every feature tap.

Run: /usr/bin/python3 eng/golden/models.py   (writes tests/Fixtures/models.json)
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc  # noqa: E402


def conv(i, o, k, s=1, p=0, g=1, bias=False):
    return nn.Conv2d(i, o, k, s, p, groups=g, bias=bias)


def classify(taps, pooled, head):
    """The shared tail of every reference net: record the pooled vector, apply the head, record the logits."""
    taps["pooled"] = pooled
    logits = head(pooled)
    taps["logits"] = logits
    return logits, taps


def run_stages(net, x, taps, names):
    """Runs each stage's blocks (each returns (output, pre-ReLU sum)) and records stage i and stage i.preact."""
    for i, name in enumerate(names):
        pre = None
        for blk in getattr(net, name):
            x, pre = blk(x)
        taps[f"stage{i + 1}"], taps[f"stage{i + 1}.preact"] = x, pre
    return x


# ---- ResNets: CIFAR resnet.py (3 stages, "downsample", "fc"), resnetv2.py (4 stages, "shortcut", "linear"),
#      torchvision (7x7 stem + max pool, 4 stages, "downsample", "fc") ----
class Block(nn.Module):
    def __init__(self, cin, planes, stride, bottleneck, proj_name):
        super().__init__()
        self.bottleneck = bottleneck
        out = planes * 4 if bottleneck else planes
        if bottleneck:
            self.conv1, self.bn1 = conv(cin, planes, 1), nn.BatchNorm2d(planes)
            self.conv2, self.bn2 = conv(planes, planes, 3, stride, 1), nn.BatchNorm2d(planes)
            self.conv3, self.bn3 = conv(planes, out, 1), nn.BatchNorm2d(out)
        else:
            self.conv1, self.bn1 = conv(cin, planes, 3, stride, 1), nn.BatchNorm2d(planes)
            self.conv2, self.bn2 = conv(planes, planes, 3, 1, 1), nn.BatchNorm2d(planes)
        self.proj_name = proj_name
        if stride != 1 or cin != out:
            setattr(self, proj_name, nn.Sequential(conv(cin, out, 1, stride), nn.BatchNorm2d(out)))
        else:
            setattr(self, proj_name, None)
        self.out = out

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.bottleneck:
            y = self.bn3(self.conv3(F.relu(y)))
        proj = getattr(self, self.proj_name)
        pre = y + (x if proj is None else proj(x))
        return F.relu(pre), pre


class RefResNet(nn.Module):
    def __init__(self, layout, widths, blocks, bottleneck, classes, cin=3):
        super().__init__()
        imagenet = layout == "torchvision"
        self.imagenet = imagenet
        self.conv1 = conv(cin, widths[0], 7, 2, 3) if imagenet else conv(cin, widths[0], 3, 1, 1)
        self.bn1 = nn.BatchNorm2d(widths[0])
        proj = "shortcut" if layout == "v2" else "downsample"
        inp = widths[0]
        self.stages = []
        for s, n in enumerate(blocks):
            layer = []
            for b in range(n):
                blk = Block(inp, widths[s + 1], 2 if (b == 0 and s > 0) else 1, bottleneck, proj)
                layer.append(blk)
                inp = blk.out
            setattr(self, f"layer{s + 1}", nn.Sequential(*layer))
            self.stages.append(f"layer{s + 1}")
        setattr(self, "linear" if layout == "v2" else "fc", nn.Linear(inp, classes))
        self.head = "linear" if layout == "v2" else "fc"

    def forward(self, x):
        taps = {}
        x = F.relu(self.bn1(self.conv1(x)))
        taps["stem"] = x
        if self.imagenet:
            x = F.max_pool2d(x, 3, 2, 1)
        x = run_stages(self, x, taps, self.stages)
        return classify(taps, F.adaptive_avg_pool2d(x, 1).flatten(1), getattr(self, self.head))


# ---- WRN (pre-activation; taps per §2.2) ----
class WrnBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), conv(cin, cout, 3, stride, 1)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), conv(cout, cout, 3, 1, 1)
        self.convShortcut = conv(cin, cout, 1, stride) if cin != cout else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        r = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return (x if self.convShortcut is None else self.convShortcut(a)) + r


class Group(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.layer = nn.Sequential(*layers)


class RefWrn(nn.Module):
    def __init__(self, depth, widen, classes, cin=3):
        super().__init__()
        n = (depth - 4) // 6
        ch = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = conv(cin, 16, 3, 1, 1)
        for g in range(3):
            setattr(self, f"block{g + 1}", Group([WrnBlock(ch[g] if i == 0 else ch[g + 1], ch[g + 1], (2 if g > 0 else 1) if i == 0 else 1) for i in range(n)]))
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.fc = nn.Linear(ch[3], classes)

    def forward(self, x):
        taps = {}
        x = self.conv1(x)
        taps["stem"] = x
        f = []
        for g in range(3):
            x = getattr(self, f"block{g + 1}").layer(x)
            f.append(x)
        taps["stage1"], taps["stage1.preact"] = f[0], self.block2.layer[0].bn1(f[0])
        taps["stage2"], taps["stage2.preact"] = f[1], self.block3.layer[0].bn1(f[1])
        taps["stage3"], taps["stage3.preact"] = f[2], self.bn1(f[2])
        return classify(taps, F.adaptive_avg_pool2d(F.relu(self.bn1(x)), 1).flatten(1), self.fc)


# ---- VGG-BN (last ReLU of each block outside it) ----
class RefVgg(nn.Module):
    def __init__(self, cfg, classes, cin=3):
        super().__init__()
        for b, widths in enumerate(cfg):
            layers = []
            for w in widths:
                layers += [conv(cin, w, 3, 1, 1, bias=True), nn.BatchNorm2d(w), nn.ReLU()]
                cin = w
            setattr(self, f"block{b}", nn.Sequential(*layers[:-1]))
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        taps = {}
        h = x.shape[2]
        x = F.relu(self.block0(x))
        taps["stem"] = x
        for b in range(1, 5):
            if b < 4 or h == 64:
                x = F.max_pool2d(x, 2, 2)
            pre = getattr(self, f"block{b}")(x)
            x = F.relu(pre)
            taps[f"stage{b}"], taps[f"stage{b}.preact"] = x, pre
        return classify(taps, F.adaptive_avg_pool2d(x, 1).flatten(1), self.classifier)


# ---- MobileNetV2 (CIFAR, width 0.5, expansion 6) ----
class InvRes(nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        self.res = s == 1 and i == o
        self.conv = nn.Sequential(conv(i, h, 1), nn.BatchNorm2d(h), nn.ReLU(), conv(h, h, 3, s, 1, g=h), nn.BatchNorm2d(h), nn.ReLU(),
                                  conv(h, o, 1), nn.BatchNorm2d(o))

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class RefMobileHalf(nn.Module):
    def __init__(self, classes, cin=3):
        super().__init__()
        settings = [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        c = 16
        self.conv1 = nn.Sequential(conv(cin, c, 3, 2, 1), nn.BatchNorm2d(c), nn.ReLU())
        self.blocks = nn.ModuleList()
        for t, ch, n, s in settings:
            o = int(ch * 0.5)
            layers = []
            for i in range(n):
                layers.append(InvRes(c, o, s if i == 0 else 1, t))
                c = o
            self.blocks.append(nn.Sequential(*layers))
        self.conv2 = nn.Sequential(conv(c, 1280, 1), nn.BatchNorm2d(1280), nn.ReLU())
        self.classifier = nn.Sequential(nn.Linear(1280, classes))

    def forward(self, x):
        taps = {}
        x = self.conv1(x)
        taps["stem"] = x
        k = 1
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i in (1, 2, 4, 6):
                taps[f"stage{k}"] = taps[f"stage{k}.preact"] = x
                k += 1
        return classify(taps, F.adaptive_avg_pool2d(self.conv2(x), 1).flatten(1), self.classifier)


# ---- ShuffleNets (CIFAR) ----
def shuffle(x, g):
    n, c, h, w = x.shape
    return x.reshape(n, g, c // g, h, w).permute(0, 2, 1, 3, 4).reshape(n, c, h, w)


class ShuffleV1Block(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        mid = cout // 4
        self.g = 1 if cin == 24 else groups
        self.stride = stride
        self.conv1, self.bn1 = conv(cin, mid, 1, g=self.g), nn.BatchNorm2d(mid)
        self.conv2, self.bn2 = conv(mid, mid, 3, stride, 1, g=mid), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(mid, cout, 1, g=groups), nn.BatchNorm2d(cout)

    def forward(self, x):
        y = shuffle(F.relu(self.bn1(self.conv1(x))), self.g)
        y = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(y)))))
        pre = torch.cat([y, F.avg_pool2d(x, 3, 2, 1)], 1) if self.stride == 2 else y + x
        return F.relu(pre), pre


class RefShuffleV1(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1, self.bn1 = conv(3, 24, 1), nn.BatchNorm2d(24)
        cin = 24
        for s, (out, n) in enumerate(zip([240, 480, 960], [4, 8, 4])):
            blocks = []
            for i in range(n):
                blocks.append(ShuffleV1Block(cin, out - (cin if i == 0 else 0), 2 if i == 0 else 1, 3))
                cin = out
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
        self.linear = nn.Linear(960, classes)

    def forward(self, x):
        taps = {}
        x = F.relu(self.bn1(self.conv1(x)))
        taps["stem"] = x
        x = run_stages(self, x, taps, ["layer1", "layer2", "layer3"])
        return classify(taps, F.adaptive_avg_pool2d(x, 1).flatten(1), self.linear)


class ShuffleV2Basic(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.h = h
        self.conv1, self.bn1 = conv(h, h, 1), nn.BatchNorm2d(h)
        self.conv2, self.bn2 = conv(h, h, 3, 1, 1, g=h), nn.BatchNorm2d(h)
        self.conv3, self.bn3 = conv(h, h, 1), nn.BatchNorm2d(h)

    def forward(self, x):
        x1, x2 = x[:, :self.h], x[:, self.h:]
        y = self.bn3(self.conv3(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x2)))))))
        return shuffle(torch.cat([x1, F.relu(y)], 1), 2), torch.cat([x1, y], 1)


class ShuffleV2Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.conv1, self.bn1 = conv(cin, cin, 3, 2, 1, g=cin), nn.BatchNorm2d(cin)
        self.conv2, self.bn2 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv4, self.bn4 = conv(mid, mid, 3, 2, 1, g=mid), nn.BatchNorm2d(mid)
        self.conv5, self.bn5 = conv(mid, mid, 1), nn.BatchNorm2d(mid)

    def forward(self, x):
        a = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        b = F.relu(self.bn3(self.conv3(x)))
        b = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(b)))))
        return shuffle(torch.cat([a, b], 1), 2), None


class RefShuffleV2(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1, self.bn1 = conv(3, 24, 1), nn.BatchNorm2d(24)
        cin = 24
        for s, (out, n) in enumerate(zip([116, 232, 464], [3, 7, 3])):
            setattr(self, f"layer{s + 1}", nn.Sequential(ShuffleV2Down(cin, out), *[ShuffleV2Basic(out) for _ in range(n)]))
            cin = out
        self.conv2, self.bn2 = conv(464, 1024, 1), nn.BatchNorm2d(1024)
        self.linear = nn.Linear(1024, classes)

    def forward(self, x):
        taps = {}
        x = F.relu(self.bn1(self.conv1(x)))
        taps["stem"] = x
        x = run_stages(self, x, taps, ["layer1", "layer2", "layer3"])
        return classify(taps, F.adaptive_avg_pool2d(F.relu(self.bn2(self.conv2(x))), 1).flatten(1), self.linear)


# ---- MobileNetV1 (mdistiller ImageNet student) and torchvision's MobileNetV2 layout ----
def cbr(i, o, k, s=1, p=0, g=1, act=nn.ReLU):
    return nn.Sequential(conv(i, o, k, s, p, g), nn.BatchNorm2d(o), act())


class RefMobileNetV1(nn.Module):
    def __init__(self, classes):
        super().__init__()
        cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 1),
               (512, 512, 1), (512, 512, 1), (512, 512, 1), (512, 1024, 2), (1024, 1024, 1)]
        self.model = nn.Sequential(cbr(3, 32, 3, 2, 1), *[nn.Sequential(conv(i, i, 3, s, 1, i), nn.BatchNorm2d(i), nn.ReLU(),
                                                                         conv(i, o, 1), nn.BatchNorm2d(o), nn.ReLU()) for i, o, s in cfg])
        self.fc = nn.Linear(1024, classes)

    def forward(self, x):
        taps = {}
        k = 1
        for i, m in enumerate(self.model):
            if i in (3, 5, 11, 13):
                pre = m[:5](x)
                x = m[5](pre)
                taps[f"stage{k}"], taps[f"stage{k}.preact"] = x, pre
                k += 1
            else:
                x = m(x)
            if i == 0:
                taps["stem"] = x
        return classify(taps, F.adaptive_avg_pool2d(x, 1).flatten(1), self.fc)


class TvInvRes(nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        self.res = s == 1 and i == o
        layers = [cbr(i, h, 1, act=nn.ReLU6)] if t != 1 else []
        layers += [cbr(h, h, 3, s, 1, h, act=nn.ReLU6), conv(h, o, 1), nn.BatchNorm2d(o)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class RefMobileNetV2(nn.Module):
    def __init__(self, classes):
        super().__init__()
        layers, c = [cbr(3, 32, 3, 2, 1, act=nn.ReLU6)], 32
        for t, o, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]:
            for i in range(n):
                layers.append(TvInvRes(c, o, s if i == 0 else 1, t))
                c = o
        layers.append(cbr(c, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, classes))

    def forward(self, x):
        taps = {}
        k = 1
        for i, m in enumerate(self.features):
            x = m(x)
            if i == 0:
                taps["stem"] = x
            if i in (3, 6, 13, 17):
                taps[f"stage{k}"] = taps[f"stage{k}.preact"] = x
                k += 1
        return classify(taps, F.adaptive_avg_pool2d(x, 1).flatten(1), self.classifier)


# ---- the small ViT (patch 4, pre-norm GELU blocks) ----
class RefVit(nn.Module):
    def __init__(self, classes, dim=192, depth=8, heads=3):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 65, dim))
        self.blocks = nn.ModuleList([nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.0, activation="gelu",
                                                                batch_first=True, norm_first=True) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        self.depth = depth

    def forward(self, x):
        taps = {}
        g = self.patch_embed(x)
        taps["stem"] = g
        t = g.flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], 1) + self.pos_embed
        for i, b in enumerate(self.blocks):
            x = b(x)
            for s in range(1, 5):
                if i == s * self.depth // 4 - 1:
                    taps[f"stage{s}"] = taps[f"stage{s}.preact"] = x
        return classify(taps, self.norm(x)[:, 0], self.head)


def deterministic_(model):
    """Fills every state_dict entry by a rule Distill's test repeats with the same ops:
    s = sin(arange(n) * 12.9898 + k) for the k-th key (a high-frequency pattern, so weights are not
    correlated and deep nets stay finite), scaled by kind."""
    with torch.no_grad():
        for k, (name, t) in enumerate(model.state_dict().items()):
            if name.endswith("num_batches_tracked"):
                continue
            s = (torch.arange(t.numel(), dtype=torch.float32) * 12.9898 + k).sin().reshape(t.shape)
            if name.endswith("running_var"):
                v = s.abs() * 0.5 + 1
            elif name.endswith("running_mean") or name.endswith("bias"):
                v = s * 0.1
            elif t.dim() == 1:
                v = s * 0.1 + 1
            else:
                v = s / (t.numel() / t.shape[0]) ** 0.5
            t.copy_(v)


def summary(t):
    flat = t.detach().reshape(-1).double()
    return {"shape": list(t.shape), "sum": flat.sum().item(), "sum_squares": (flat * flat).sum().item(),
            "head": flat[:8].tolist()}


MODELS = {
    "resnet8": (lambda: RefResNet("cifar", [16, 16, 32, 64], [1, 1, 1], False, 100), (2, 3, 32, 32)),
    "resnet20": (lambda: RefResNet("cifar", [16, 16, 32, 64], [3, 3, 3], False, 100), (2, 3, 32, 32)),
    "resnet8x4": (lambda: RefResNet("cifar", [32, 64, 128, 256], [1, 1, 1], False, 100), (2, 3, 32, 32)),
    "resnet18_cifar": (lambda: RefResNet("v2", [64, 64, 128, 256, 512], [2, 2, 2, 2], False, 100), (2, 3, 32, 32)),
    "resnet50_cifar": (lambda: RefResNet("v2", [64, 64, 128, 256, 512], [3, 4, 6, 3], True, 100), (1, 3, 32, 32)),
    "resnet18": (lambda: RefResNet("torchvision", [64, 64, 128, 256, 512], [2, 2, 2, 2], False, 1000), (1, 3, 64, 64)),
    "resnet50": (lambda: RefResNet("torchvision", [64, 64, 128, 256, 512], [3, 4, 6, 3], True, 1000), (1, 3, 64, 64)),
    "wrn_16_2": (lambda: RefWrn(16, 2, 100), (2, 3, 32, 32)),
    "vgg8": (lambda: RefVgg([[64], [128], [256], [512], [512]], 100), (2, 3, 32, 32)),
    "mobilenetv2_half": (lambda: RefMobileHalf(100), (2, 3, 32, 32)),
    "shufflenetv1": (lambda: RefShuffleV1(100), (2, 3, 32, 32)),
    "shufflenetv2": (lambda: RefShuffleV2(100), (2, 3, 32, 32)),
    "mobilenetv1": (lambda: RefMobileNetV1(1000), (1, 3, 64, 64)),
    "mobilenetv2": (lambda: RefMobileNetV2(1000), (1, 3, 64, 64)),
    "vit_tiny": (lambda: RefVit(100), (2, 3, 32, 32)),
    "resnet20@fashion": (lambda: RefResNet("cifar", [16, 16, 32, 64], [3, 3, 3], False, 10, cin=1), (2, 1, 28, 28)),
}

def main():
    OUT = {}
    for name, (make, shape) in MODELS.items():
        model = make()
        deterministic_(model)
        model.eval()
        x = (torch.linspace(0, 1, torch.Size(shape).numel()) * 77).sin().reshape(shape)
        with torch.no_grad():
            logits, taps = model(x)
        OUT[name] = {
            "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
            "input_shape": list(shape),
            "logits": enc(logits),
            "taps": {k: summary(v) for k, v in taps.items()},
        }

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "models.json")
    with open(path, "w") as f:
        json.dump(OUT, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(OUT)} models to models.json", file=sys.stderr)


if __name__ == "__main__":
    main()
