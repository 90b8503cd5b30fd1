#!/usr/bin/python3
"""The PyTorch side of the end-to-end benchmark: KD steps (resnet32x4 teacher -> resnet8x4 student) and plain
CE steps of the student, batch 64 of random 3x32x32 data, SGD as the CIFAR recipe. Prints JSON.

Usage: kd_step_bench.py STEPS THREADS
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import RefResNet  # noqa: E402  (eng/golden/models.py, copied beside this script)

steps, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
teacher = RefResNet("cifar", [32, 64, 128, 256], [5, 5, 5], False, 100).eval()
student = RefResNet("cifar", [32, 64, 128, 256], [1, 1, 1], False, 100)
opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
x = torch.randn(64, 3, 32, 32)
y = torch.randint(0, 100, (64,))


def kd_step():
    with torch.no_grad():
        t, _ = teacher(x)
    s, _ = student(x)
    kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
    loss = 0.1 * F.cross_entropy(s, y) + 0.9 * kd
    opt.zero_grad()
    loss.backward()
    opt.step()


def ce_step():
    s, _ = student(x)
    loss = F.cross_entropy(s, y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def images_per_second(step):
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * 64 / (time.perf_counter() - start)


result = {"kd": images_per_second(kd_step), "ce": images_per_second(ce_step),
          "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(result))
