#!/usr/bin/python3
"""Golden values for batch-norm folding (Distill.NN.BatchNormFolding): a Conv2d then an eval-mode BatchNorm2d, built
right after a seed (the C# side builds the same layers after the same seed), their batch norm given non-trivial
statistics and affine parameters, folded with torch.nn.utils.fusion.fuse_conv_bn_eval. Records the state the two
layers hold, the folded convolution's weight and bias, and the outputs of both on one input.

Run: /usr/bin/python3 eng/golden/bn_folding.py   (writes tests/Fixtures/bn_folding.json)
"""
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, write_fixture  # noqa: E402

# name -> (seed, Conv2d arguments, input shape); the C# test builds Conv2d with the same arguments.
CASES = {
    "conv_bias": (11, dict(in_channels=3, out_channels=8, kernel_size=3, stride=2, padding=1, bias=True), (2, 3, 9, 9)),
    "conv_groups_nobias": (12, dict(in_channels=4, out_channels=6, kernel_size=3, padding=1, groups=2, bias=False), (2, 4, 7, 7)),
}


def case(seed, conv_args, shape):
    torch.manual_seed(seed)
    conv = nn.Conv2d(**conv_args)
    bn = nn.BatchNorm2d(conv_args["out_channels"])
    c = conv_args["out_channels"]
    with torch.no_grad():
        # Statistics far from the defaults, a variance near zero in one channel (a large scale) and one large.
        bn.running_mean.copy_(torch.randn(c) * 2)
        bn.running_var.copy_(torch.rand(c) * 3 + 0.05)
        bn.running_var[0] = 1e-4
        bn.running_var[-1] = 40.0
        bn.weight.copy_(torch.randn(c))
        bn.bias.copy_(torch.randn(c))
    conv.eval()
    bn.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        reference = bn(conv(x))
        fused = fuse_conv_bn_eval(conv, bn)
        folded = fused(x)
    state = {f"0.{k}": enc(v) for k, v in conv.state_dict().items()}
    state.update({f"1.{k}": enc(v) for k, v in bn.state_dict().items()})
    return {
        "state": state,
        "input": enc(x),
        "output": enc(reference),
        "folded_output": enc(folded),
        "folded_weight": enc(fused.weight),
        "folded_bias": enc(fused.bias),
    }


def main():
    torch.set_num_threads(1)
    write_fixture("bn_folding.json", {name: case(*args) for name, args in CASES.items()})


if __name__ == "__main__":
    main()
