#!/usr/bin/python3
"""PyTorch 1.13 eager beside Distill's TeacherForwardBench.cs: the resnet32x4 teacher's forward alone (eval, no-grad),
batch 64 of random 3x32x32, in the variants a frozen teacher can run as: as loaded; with every batch norm folded into
the convolution before it (torch.nn.utils.fusion.fuse_conv_bn_eval); folded and fed channels-last images; folded in
bfloat16. ROUNDS rounds, each timing every variant over STEPS batches after one untimed batch; prints JSON with each
variant's images/s per round.

Usage: teacher_forward_bench.py STEPS ROUNDS [--threads N]
"""
import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "..", "..", "eng", "golden")]
from models import RefResNet  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("steps", type=int)
parser.add_argument("rounds", type=int)
parser.add_argument("--threads", type=int)
args = parser.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)
torch.manual_seed(0)
teacher = RefResNet("cifar", [32, 64, 128, 256], [5, 5, 5], False, 100).eval()
for p in teacher.parameters():
    p.requires_grad_(False)
x = torch.randn(64, 3, 32, 32)


def folded_copy(model):
    """Every conv -> bn pair of the reference ResNet (conv1/bn1, conv2/bn2 of each block, each projection's 0/1) fused."""
    model = copy.deepcopy(model)
    for module in model.modules():
        for conv, bn in (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3")):
            if isinstance(getattr(module, conv, None), nn.Conv2d) and isinstance(getattr(module, bn, None), nn.BatchNorm2d):
                setattr(module, conv, fuse_conv_bn_eval(getattr(module, conv), getattr(module, bn)))
                setattr(module, bn, nn.Identity())
        if isinstance(module, nn.Sequential) and len(module) == 2 and isinstance(module[1], nn.BatchNorm2d):
            module[0] = fuse_conv_bn_eval(module[0], module[1])
            module[1] = nn.Identity()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    return model


folded = folded_copy(teacher)
folded16 = copy.deepcopy(folded).to(torch.bfloat16)
x_last = x.contiguous(memory_format=torch.channels_last)
x16 = x.to(torch.bfloat16)
with torch.no_grad():
    assert (folded(x)[0] - teacher(x)[0]).abs().max() <= 1e-4 * teacher(x)[0].abs().max()

def inference(forward):
    with torch.inference_mode():
        return forward()


variants = {
    "as_loaded": lambda: teacher(x),
    "folded": lambda: folded(x),
    "folded_channels_last": lambda: folded(x_last),
    "folded_channels_last_inference": lambda: inference(lambda: folded(x_last)),
    "folded_bf16": lambda: folded16(x16),
}
rates = {name: [] for name in variants}
with torch.no_grad():
    for _ in range(args.rounds):
        for name, forward in variants.items():
            forward()
            start = time.perf_counter()
            for _ in range(args.steps):
                forward()
            rates[name].append(args.steps * 64 / (time.perf_counter() - start))
print(json.dumps({"images_per_second": rates, "torch": torch.__version__, "threads": torch.get_num_threads()}))
