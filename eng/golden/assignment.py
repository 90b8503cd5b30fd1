#!/usr/bin/python3
"""Golden linear sum assignments from scipy.optimize.linear_sum_assignment (Debian python3-scipy) for
the C# solver (Matching Guided Distillation's matching step, spec §12.4).

Costs are generated, not stored: cost[i, j] = (splitmix64(seed * 2^32 + i * columns + j) mod modulus) / modulus,
which the C# test recomputes bit for bit. Cases: 512 x 512 with distinct costs (a unique optimum: the
assignment must match), 512 x 512 integer costs in 0..9 (many ties: the total must match), 300 x 512 and
512 x 300 rectangles.

Run: /usr/bin/python3 eng/golden/assignment.py   (writes tests/Fixtures/assignment.json)
"""
import os
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import write_fixture  # noqa: E402

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def costs(seed, rows, columns, modulus):
    return np.array([[(splitmix64((seed << 32) + i * columns + j) % modulus) / modulus for j in range(columns)] for i in range(rows)])


def main():
    cases = {}
    for name, seed, rows, columns, modulus in (("distinct_512", 1, 512, 512, 1 << 40), ("ties_512", 2, 512, 512, 10),
                                               ("wide_300x512", 3, 300, 512, 1 << 40), ("tall_512x300", 4, 512, 300, 1 << 40)):
        c = costs(seed, rows, columns, modulus)
        r, col = linear_sum_assignment(c)
        assignment = [-1] * rows
        for i, j in zip(r.tolist(), col.tolist()):
            assignment[i] = j
        cases[name] = {"seed": seed, "rows": rows, "columns": columns, "modulus": modulus,
                       "assignment": assignment, "total": float(c[r, col].sum())}
    write_fixture("assignment.json", cases)


if __name__ == "__main__":
    main()
