"""Shared by the golden-value scripts: how a tensor is written to the JSON fixtures."""
import json
import math
import os

import torch


def enc(t):
    """{"dtype", "shape", "data"}: data flat, row-major; NaN and infinities as strings (JSON has none)."""
    t = t.detach()
    dtype = str(t.dtype).replace("torch.", "")
    data = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        data = [v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) for v in data]
    elif dtype == "bool":
        data = [1 if v else 0 for v in data]
    return {"dtype": dtype, "shape": list(t.shape), "data": data}


class GradientScale(torch.autograd.Function):
    """Identity forward; backward multiplies the gradient by a factor (a gradient reversal layer with a negative one)."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.factor, None


def fixtures_dir():
    """tests/Fixtures, or the folder named by DISTILL_FIXTURES_OUT (eng/golden/check_fixtures.sh regenerates there)."""
    return os.environ.get("DISTILL_FIXTURES_OUT") or os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures"))


def write_fixture(name, cases):
    """Writes <fixtures_dir()>/<name> (compact JSON, one trailing newline) and says how many cases it holds."""
    os.makedirs(fixtures_dir(), exist_ok=True)
    path = os.path.join(fixtures_dir(), name)
    with open(path, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases -> {path}")
