"""scipy's linear_sum_assignment on the costs AssignmentBench.cs times (splitmix64 over the cell index,
over 2^40), median of the rounds in ms, as JSON. Args: n rounds."""
import json
import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

n, rounds = int(sys.argv[1]), int(sys.argv[2])
x = np.arange(n * n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
with np.errstate(over="ignore"):
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
x = x ^ (x >> np.uint64(31))
cost = ((x % np.uint64(1 << 40)).astype(np.float64) / float(1 << 40)).reshape(n, n)
times = []
for _ in range(rounds):
    start = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(json.dumps({"median_ms": times[len(times) // 2], "total": float(cost[rows, cols].sum())}))
