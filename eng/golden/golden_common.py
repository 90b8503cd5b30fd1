"""Shared by the golden-value scripts: how a tensor is written to the JSON fixtures, and the method goldens' inputs
and reference run."""
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


def f32(t):
    """Rounds to float32 and back: the inputs the C# side is given, the values the reference computes with."""
    return t.to(torch.float32).to(torch.float64)


def rand(*shape, scale=1.0, shift=0.0):
    """Standard normal float64 values times scale plus shift, rounded through float32 (f32)."""
    t = torch.randn(*shape, dtype=torch.float64) * scale
    return f32(t + shift if shift else t)


def method_reference(fn, inputs, epoch, kw, dtype=None, is_buffer=lambda name: False):
    """Runs a method's reference fn(p, epoch, **kw) -> {term: loss} on the inputs (cast to dtype first unless None):
    every term, the total, and the gradient of the total with respect to every student input and method parameter
    (student.* and method.* minus the buffers is_buffer names), encoded by name (loss.*, grad.*)."""
    def learned(k):
        return (k.startswith("student.") or k.startswith("method.")) and not is_buffer(k)

    p = {k: ((v if dtype is None else v.to(dtype)).clone().requires_grad_(learned(k)) if v.is_floating_point() else v)
         for k, v in inputs.items()}
    terms = fn(p, epoch, **kw)
    total = sum(terms.values())
    total.backward()
    expected = {f"loss.{k}": v.detach().reshape(()) for k, v in terms.items()}
    expected["loss.total"] = total.detach().reshape(())
    for k, v in p.items():
        # An input the loss never reads (student.pooled only sizes OFA's projectors) has no gradient to compare.
        if learned(k) and v.is_floating_point() and v.grad is not None:
            expected["grad." + k] = v.grad
    return {k: enc(v) for k, v in expected.items()}


def method_case(method, options, epoch, inputs):
    """A method golden's case without its expected values: the method, the epoch, the options as key=value (JSON
    values without spaces or quotes) and the inputs in float32 (integers as they are)."""
    return {
        "method": method,
        "epoch": epoch,
        "options": [k + "=" + json.dumps(v).replace(" ", "").replace('"', "") for k, v in options.items()],
        "inputs": {k: enc(v.to(torch.float32) if v.is_floating_point() else v) for k, v in inputs.items()},
    }
