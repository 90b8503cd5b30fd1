#!/usr/bin/python3
"""Golden values for the segmentation networks (src/Distill/Models/Segmentation): reference definitions written by
us, since torchvision is not installed here, following

* torchvision's ResNet with replace_stride_with_dilation (models/resnet.py: _make_layer multiplies the dilation
  by the stride it replaces, the first block of a dilated layer keeps the previous dilation, a 3x3 conv has
  padding = dilation) and its segmentation heads (models/segmentation/deeplabv3.py: DeepLabHead, ASPP with the
  1x1 branch, one 3x3 branch per rate and the image-pooling branch resized bilinearly with align_corners=False,
  the 1x1 projection + BN + ReLU + Dropout(0.5); models/segmentation/fcn.py: FCNHead with in/4 channels and
  Dropout(0.1)). torchvision's BasicBlock refuses a dilation; ours dilates both 3x3 convs, as the BasicBlock of
  the SKD official code (networks/pspnet_combine.py) does;
* the SKD official code's PSPNet head (networks/pspnet_combine.py: PSPModule with adaptive pools 1/2/3/6, each a
  1x1 conv + InPlaceABNSync, i.e. BN then leaky ReLU 0.01, upsampled bilinearly with align_corners=True, the
  concatenation with the input through a 3x3 conv + InPlaceABNSync + Dropout2d(0.1); the 1x1 "head"; the "dsn"
  head on layer3: 3x3 conv with bias + InPlaceABNSync + Dropout2d(0.1) + 1x1 conv), on the torchvision-named
  backbone (the official deep stem is not used, so ImageNet torchvision weights load).

What is written (tests/Fixtures/segmentation_models.json):
* "counts": the parameter count and every state_dict key and shape of the full-size networks at 19 classes;
* "forward": small networks filled by models.py's deterministic rule, run in eval mode on models.py's input rule:
  the logits and a summary of every tap, for a square and a non-square input;
* "backbone": a small torchvision-layout ResNet (with its fc) written to segmentation_backbone.safetensors, and the
  stage taps of the dilated network whose backbone loads it.

Run: /usr/bin/python3 eng/golden/segmentation_models.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, fixtures_dir, write_fixture  # noqa: E402
from models import deterministic_, summary  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402


def conv(i, o, k, s=1, p=0, d=1, bias=False):
    return nn.Conv2d(i, o, k, s, p, dilation=d, bias=bias)


class Block(nn.Module):
    """torchvision's Bottleneck (dilation on the 3x3 conv) or a BasicBlock with both 3x3 convs dilated."""

    def __init__(self, cin, planes, stride, dilation, bottleneck):
        super().__init__()
        self.bottleneck = bottleneck
        out = planes * 4 if bottleneck else planes
        if bottleneck:
            self.conv1, self.bn1 = conv(cin, planes, 1), nn.BatchNorm2d(planes)
            self.conv2, self.bn2 = conv(planes, planes, 3, stride, dilation, dilation), nn.BatchNorm2d(planes)
            self.conv3, self.bn3 = conv(planes, out, 1), nn.BatchNorm2d(out)
        else:
            self.conv1, self.bn1 = conv(cin, planes, 3, stride, dilation, dilation), nn.BatchNorm2d(planes)
            self.conv2, self.bn2 = conv(planes, planes, 3, 1, dilation, dilation), nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(conv(cin, out, 1, stride), nn.BatchNorm2d(out)) if stride != 1 or cin != out else None
        self.out = out

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.bottleneck:
            y = self.bn3(self.conv3(F.relu(y)))
        pre = y + (x if self.downsample is None else self.downsample(x))
        return F.relu(pre), pre


class Backbone(nn.Module):
    """conv1/bn1 (7x7 s2 + max pool for "torchvision", 3x3 s2 for "conv3x3"), layer1..4 at strides 1/2/2/2 where
    replace[i] turns layer i+2's stride into dilation; every_block gives the first block of a dilated layer the
    layer's dilation instead of the previous one. fc_classes adds torchvision's classifier (an ImageNet file)."""

    def __init__(self, cin, stem, stem_width, planes, blocks, bottleneck, replace, every_block=False, fc_classes=None):
        super().__init__()
        self.torchvision_stem = stem == "torchvision"
        self.conv1 = conv(cin, stem_width, 7, 2, 3) if self.torchvision_stem else conv(cin, stem_width, 3, 2, 1)
        self.bn1 = nn.BatchNorm2d(stem_width)
        inp, dilation = stem_width, 1
        for i, (p, n) in enumerate(zip(planes, blocks)):
            stride = 1 if i == 0 else 2
            previous = dilation
            if i > 0 and replace[i - 1]:
                dilation *= stride
                stride = 1
            layer = []
            for b in range(n):
                d = dilation if (b > 0 or every_block) else previous
                blk = Block(inp, p, stride if b == 0 else 1, d, bottleneck)
                layer.append(blk)
                inp = blk.out
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
        self.channels = [getattr(self, f"layer{i + 1}")[-1].out for i in range(4)]
        if fc_classes is not None:
            self.fc = nn.Linear(inp, fc_classes)

    def forward(self, x, taps):
        x = F.relu(self.bn1(self.conv1(x)))
        taps["stem"] = x
        if self.torchvision_stem:
            x = F.max_pool2d(x, 3, 2, 1)
        outs = []
        for i in range(4):
            pre = None
            for blk in getattr(self, f"layer{i + 1}"):
                x, pre = blk(x)
            taps[f"stage{i + 1}"], taps[f"stage{i + 1}.preact"] = x, pre
            outs.append(x)
        return outs


class AsppPooling(nn.Sequential):
    def __init__(self, cin, ch):
        super().__init__(nn.AdaptiveAvgPool2d(1), conv(cin, ch, 1), nn.BatchNorm2d(ch), nn.ReLU())

    def forward(self, x):
        y = x
        for m in self:
            y = m(y)
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class Aspp(nn.Module):
    def __init__(self, cin, rates, ch):
        super().__init__()
        branches = [nn.Sequential(conv(cin, ch, 1), nn.BatchNorm2d(ch), nn.ReLU())]
        branches += [nn.Sequential(conv(cin, ch, 3, 1, r, r), nn.BatchNorm2d(ch), nn.ReLU()) for r in rates]
        branches.append(AsppPooling(cin, ch))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(conv(len(branches) * ch, ch, 1), nn.BatchNorm2d(ch), nn.ReLU(), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(torch.cat([b(x) for b in self.convs], 1))


class DeepLabV3(nn.Module):
    def __init__(self, backbone, classes, rates=(12, 24, 36), ch=256, aux=True):
        super().__init__()
        self.backbone = backbone
        c3, c4 = backbone.channels[2], backbone.channels[3]
        self.classifier = nn.Sequential(Aspp(c4, rates, ch), conv(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.ReLU(),
                                        conv(ch, classes, 1, bias=True))
        self.aux_classifier = nn.Sequential(conv(c3, c3 // 4, 3, 1, 1), nn.BatchNorm2d(c3 // 4), nn.ReLU(), nn.Dropout(0.1),
                                            conv(c3 // 4, classes, 1, bias=True)) if aux else None

    def forward(self, x):
        taps = {}
        f = self.backbone(x, taps)
        y = f[3]
        for i in range(4):
            y = self.classifier[i](y)
        taps["context"] = y
        taps["logits"] = self.classifier[4](y)
        if self.aux_classifier is not None:
            taps["aux_logits"] = self.aux_classifier(f[2])
        return taps["logits"], taps


class Abn(nn.BatchNorm2d):
    """InPlaceABNSync's default: batch norm, then leaky ReLU of slope 0.01."""

    def forward(self, x):
        return F.leaky_relu(super().forward(x), 0.01)


class PspModule(nn.Module):
    def __init__(self, cin, ch, sizes=(1, 2, 3, 6)):
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(nn.AdaptiveAvgPool2d(s), conv(cin, ch, 1), Abn(ch)) for s in sizes])
        self.bottleneck = nn.Sequential(conv(cin + len(sizes) * ch, ch, 3, 1, 1), Abn(ch), nn.Dropout2d(0.1))

    def forward(self, x, taps):
        h, w = x.shape[2], x.shape[3]
        priors = [F.interpolate(s(x), size=(h, w), mode="bilinear", align_corners=True) for s in self.stages] + [x]
        y = self.bottleneck[1](self.bottleneck[0](torch.cat(priors, 1)))
        taps["context"] = y
        return self.bottleneck[2](y)


class PspNet(nn.Module):
    def __init__(self, backbone, classes, ch, aux=True):
        super().__init__()
        self.backbone = backbone
        c3, c4 = backbone.channels[2], backbone.channels[3]
        self.pspmodule = PspModule(c4, ch)
        self.head = conv(ch, classes, 1, bias=True)
        self.dsn = nn.Sequential(conv(c3, ch, 3, 1, 1, bias=True), Abn(ch), nn.Dropout2d(0.1), conv(ch, classes, 1, bias=True)) if aux else None

    def forward(self, x):
        taps = {}
        f = self.backbone(x, taps)
        taps["logits"] = self.head(self.pspmodule(f[3], taps))
        if self.dsn is not None:
            taps["aux_logits"] = self.dsn(f[2])
        return taps["logits"], taps


OS8, OS16 = (False, True, True), (False, False, True)
R18, R50, R101 = ([2, 2, 2, 2], False), ([3, 4, 6, 3], True), ([3, 4, 23, 3], True)


def resnet(depth_spec, replace=OS8, cin=3):
    blocks, bottleneck = depth_spec
    return Backbone(cin, "torchvision", 64, [64, 128, 256, 512], blocks, bottleneck, replace)


def scene(widths, blocks, head, classes=11):
    """The CPU-sized pair: 3x3 s2 stem, BasicBlock layers at strides 1/2/2 and a dilated layer4 (every block d=2),
    ASPP with the 1x1 branch and 3x3 branches at rates 2, 3, 4 (rates 1-4 counting the 1x1 as rate 1)."""
    return DeepLabV3(Backbone(1, "conv3x3", widths[0], widths[1:], blocks, False, OS16, every_block=True), classes, (2, 3, 4), head)


FULL = {
    "deeplabv3_resnet50": lambda k: DeepLabV3(resnet(R50), k),
    "deeplabv3_resnet101": lambda k: DeepLabV3(resnet(R101), k),
    "pspnet_resnet18": lambda k: PspNet(resnet(R18), k, 128),
    "pspnet_resnet101": lambda k: PspNet(resnet(R101), k, 512),
}

# Small widths so the fixture stays small; rates small enough that a 3x3 branch reads more than padding on a 9x9 map.
TINY_BOTTLENECK = dict(stem="torchvision", stem_width=8, planes=[4, 4, 8, 16], blocks=[1, 1, 2, 2], bottleneck=True)
TINY_BASIC = dict(stem="torchvision", stem_width=8, planes=[8, 8, 16, 32], blocks=[1, 1, 2, 2], bottleneck=False)
FORWARD = {
    "scene_teacher": (lambda: scene([16, 16, 32, 64, 128], [2, 2, 2, 2], 64), [(1, 1, 64, 64), (2, 1, 48, 72)]),
    "scene_student": (lambda: scene([8, 8, 16, 32, 64], [1, 1, 1, 1], 32), [(1, 1, 64, 64), (2, 1, 48, 72)]),
    "deeplab_tiny": (lambda: DeepLabV3(Backbone(3, replace=OS8, **TINY_BOTTLENECK), 5, (2, 3, 5), 16), [(1, 3, 65, 65), (1, 3, 50, 70)]),
    "deeplab_tiny_os16": (lambda: DeepLabV3(Backbone(3, replace=OS16, **TINY_BOTTLENECK), 5, (2, 3, 5), 16), [(1, 3, 65, 65)]),
    "pspnet_tiny": (lambda: PspNet(Backbone(3, replace=OS8, **TINY_BASIC), 5, 8), [(1, 3, 65, 65), (1, 3, 50, 70)]),
}


def rule_input(shape):
    return (torch.linspace(0, 1, torch.Size(shape).numel()) * 77).sin().reshape(shape)


def main():
    torch.manual_seed(0)
    out = {"counts": {}, "forward": {}}
    # torchvision's published sizes of its 21-class models with the aux head check the reference layout.
    for name, expected in (("deeplabv3_resnet50", 42004074), ("deeplabv3_resnet101", 60996202)):
        n = sum(p.numel() for p in FULL[name](21).parameters())
        assert n == expected, f"{name}: {n} parameters, torchvision publishes {expected}"
    for name, make in FULL.items():
        model = make(19)
        out["counts"][name] = {
            "classes": 19,
            "parameters": sum(p.numel() for p in model.parameters()),
            "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        }
        print(f"{name}: {out['counts'][name]['parameters']} parameters", file=sys.stderr)

    for name, (make, shapes) in FORWARD.items():
        model = make()
        deterministic_(model)
        model.eval()
        case = {"keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
                "parameters": sum(p.numel() for p in model.parameters()), "inputs": []}
        for shape in shapes:
            with torch.no_grad():
                logits, taps = model(rule_input(shape))
            case["inputs"].append({"input_shape": list(shape), "logits": enc(logits), "taps": {k: summary(v) for k, v in taps.items()}})
        out["forward"][name] = case
        print(f"{name}: {case['parameters']} parameters", file=sys.stderr)

    # An ImageNet-style file: the torchvision ResNet (undilated, with fc) of deeplab_tiny's backbone.
    imagenet = Backbone(3, replace=(False, False, False), fc_classes=10, **TINY_BOTTLENECK)
    deterministic_(imagenet)
    write_safetensors(os.path.join(fixtures_dir(), "segmentation_backbone.safetensors"), imagenet.state_dict())
    dilated = Backbone(3, replace=OS8, **TINY_BOTTLENECK)
    dilated.load_state_dict({k: v for k, v in imagenet.state_dict().items() if not k.startswith("fc.")})
    dilated.eval()
    taps = {}
    with torch.no_grad():
        dilated(rule_input((1, 3, 65, 65)), taps)
    out["backbone"] = {"file": "segmentation_backbone.safetensors", "model": "deeplab_tiny", "input_shape": [1, 3, 65, 65],
                       "keys": [[k, list(v.shape)] for k, v in imagenet.state_dict().items()],
                       "taps": {k: summary(v) for k, v in taps.items()}}
    # Dropout2d's draws: one Bernoulli(1 - p) per sample and channel from the seeded global generator.
    torch.manual_seed(7)
    x = rule_input((2, 8, 3, 3))
    out["dropout2d"] = {"seed": 7, "p": 0.3, "input_shape": [2, 8, 3, 3], "output": enc(F.dropout2d(x, 0.3, training=True))}
    write_fixture("segmentation_models.json", out)


if __name__ == "__main__":
    main()
