#!/usr/bin/env python3
"""PyTorch eager beside distill-gpucheck's bench step, on the same device: the KD step of
benchmarks/Distill.Benchmarks/kd_step_bench.py (resnet32x4 teacher in eval + no-grad -> resnet8x4 student, batch
64 of random 3x32x32, KD T=4 weight 0.9 + CE 0.1, SGD lr 0.05 momentum 0.9 wd 5e-4), 5 warm-up steps, then STEPS
timed steps between two synchronisations. Prints JSON.

Usage: kd_step_bench.py DEVICE STEPS
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from models import RefResNet  # noqa: E402  (eng/golden/models.py: the reference networks of the model goldens)

device, steps = torch.device(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(0)
teacher = RefResNet("cifar", [32, 64, 128, 256], [5, 5, 5], False, 100).to(device).eval()
for p in teacher.parameters():
    p.requires_grad_(False)
student = RefResNet("cifar", [32, 64, 128, 256], [1, 1, 1], False, 100).to(device)
opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
x = torch.randn(64, 3, 32, 32).to(device)
y = torch.randint(0, 100, (64,)).to(device)


def kd_step():
    with torch.no_grad():
        t, _ = teacher(x)
    s, _ = student(x)
    kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
    loss = 0.1 * F.cross_entropy(s, y) + 0.9 * kd
    opt.zero_grad()
    loss.backward()
    opt.step()


def synchronize():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


for _ in range(5):
    kd_step()
synchronize()
start = time.perf_counter()
for _ in range(steps):
    kd_step()
synchronize()
rate = steps * 64 / (time.perf_counter() - start)
print(json.dumps({"kd_images_per_second": rate, "steps": steps, "batch": 64, "torch": torch.__version__,
                  "device": str(device), "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
                  "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32}))
