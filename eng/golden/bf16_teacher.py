#!/usr/bin/python3
"""Golden values for teacher.precision: bf16. The resnet20 reference network (eng/golden/models.py) with the
deterministic weights of the model goldens, in eval mode, on the model goldens' input rule (sin(linspace(0, 1, n) * 77))
for a batch of 4: its logits in float32, and those of the same network converted with model.to(torch.bfloat16) on the
input cast to bfloat16 (the float32 values of the bfloat16 results, exact), with the pooled tap (the stage-3 map averaged, what the head reads) of both.
Also prints the largest difference between the two relative to the float32 logits' root mean square.

Run: /usr/bin/python3 eng/golden/bf16_teacher.py   (writes tests/Fixtures/bf16_teacher.json)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc  # noqa: E402
from models import RefResNet, deterministic_  # noqa: E402

SHAPE = (4, 3, 32, 32)


def main():
    torch.set_num_threads(1)
    model = RefResNet("cifar", [16, 16, 32, 64], [3, 3, 3], False, 100)
    deterministic_(model)
    model.eval()
    x = (torch.linspace(0, 1, torch.Size(SHAPE).numel()) * 77).sin().reshape(SHAPE)
    with torch.no_grad():
        logits32, taps32 = model(x)
        pooled32 = taps32["pooled"].clone()
        model.to(torch.bfloat16)
        logits16, taps16 = model(x.to(torch.bfloat16))
    logits16 = logits16.float()
    pooled16 = taps16["pooled"].float()
    rms = logits32.pow(2).mean().sqrt().item()
    print(f"logits rms {rms:.4g}, max |bf16 - fp32| / rms {((logits16 - logits32).abs().max().item() / rms):.4g}, "
          f"rms(bf16 - fp32) / rms {((logits16 - logits32).pow(2).mean().sqrt().item() / rms):.4g}", file=sys.stderr)
    srms = pooled32.pow(2).mean().sqrt().item()
    print(f"pooled rms {srms:.4g}, max diff / rms {((pooled16 - pooled32).abs().max().item() / srms):.4g}", file=sys.stderr)
    out = {
        "model": "resnet20",
        "input_shape": list(SHAPE),
        "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        "logits_fp32": enc(logits32),
        "logits_bf16": enc(logits16),
        "pooled_fp32": enc(pooled32),
        "pooled_bf16": enc(pooled16),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "bf16_teacher.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote bf16_teacher.json", file=sys.stderr)


if __name__ == "__main__":
    main()
