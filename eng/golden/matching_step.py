#!/usr/bin/python3
"""Golden matching steps for Matching Guided Distillation (spec §12.4), from our own reading of the spec:
the mean cost between L2-normalised channel maps (teacher maps pooled to the student's size), the cost
stacked G = floor(C_t / C_s) times over the first G * C_s teacher channels and solved by scipy's
linear_sum_assignment (Debian python3-scipy), and the sparse C_s x C_t assignment.

Run: /usr/bin/python3 eng/golden/matching_step.py   (writes tests/Fixtures/matching_step.json)
"""
import os
import sys

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, write_fixture  # noqa: E402



def mean_cost(batches):
    total, images = 0, 0
    for s, t in batches:
        if t.shape[2:] != s.shape[2:]:
            t = F.adaptive_avg_pool2d(t, s.shape[2:])
        sn = F.normalize(s.flatten(2), dim=2)
        tn = F.normalize(t.flatten(2), dim=2)
        total = total + (2 - 2 * torch.bmm(sn, tn.transpose(1, 2))).sum(0)
        images += s.shape[0]
    return total / images


def match(cost, sparse):
    cs, ct = cost.shape
    if sparse:
        rows, cols = linear_sum_assignment(cost.numpy())
        return [[int(c)] for _, c in sorted(zip(rows, cols))]
    g = ct // cs
    stacked = torch.cat([cost[:, : g * cs]] * g, 0).numpy()
    rows, cols = linear_sum_assignment(stacked)
    groups = [[0] * g for _ in range(cs)]
    for r, c in zip(rows, cols):
        groups[r % cs][r // cs] = int(c)
    return groups


def main():
    torch.manual_seed(12)
    cases = {}
    for name, cs, ct, hs, ht in (("g2_shave_pool", 3, 7, 4, 8), ("g4", 4, 16, 2, 2), ("square", 5, 5, 3, 3)):
        batches = [(torch.randn(4, cs, hs, hs, dtype=torch.float64).float(), torch.randn(4, ct, ht, ht, dtype=torch.float64).float()) for _ in range(2)]
        cost = mean_cost([(s.double(), t.double()) for s, t in batches])
        cases[name] = {
            "batches": [{"student": enc(s), "teacher": enc(t)} for s, t in batches],
            "cost": enc(cost),
            "groups": match(cost, sparse=False),
            "sparse": match(cost, sparse=True),
        }
    write_fixture("matching_step.json", cases)


if __name__ == "__main__":
    main()
