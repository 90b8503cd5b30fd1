#!/usr/bin/python3
"""The PyTorch side of Distill.Benchmarks: the same loops, timed the same way, printed as JSON.

Usage: torch_ops_bench.py ROUNDS TINY_ITERS CONV_ITERS THREADS
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

rounds, tiny_iters, conv_iters, threads = (int(v) for v in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)

a = torch.ones(1)
b = torch.ones(1)
tiny = []
for r in range(rounds + 1):
    start = time.perf_counter_ns()
    for _ in range(tiny_iters):
        c = a + b
    if r > 0:  # the first round warms up, as on the Distill side
        tiny.append((time.perf_counter_ns() - start) / tiny_iters)

x = torch.randn(32, 64, 32, 32)
w = torch.randn(64, 64, 3, 3, requires_grad=True)
gy = torch.randn(32, 64, 32, 32)
conv = []
for r in range(rounds + 1):
    start = time.perf_counter_ns()
    for _ in range(conv_iters):
        y = F.conv2d(x, w, None, 1, 1)
        y.backward(gy)
        w.grad = None
    if r > 0:  # the first round warms up caches and allocators
        conv.append((time.perf_counter_ns() - start) / conv_iters / 1e6)

print(json.dumps({"torch": torch.__version__, "tiny_ns": tiny, "conv_ms": conv}))
