#!/usr/bin/python3
"""Compares two folders of golden fixtures (committed and regenerated, or two git revisions) value by value,
at the tolerance the C# golden tests use (tests/Distill.Testing/GoldenTolerance.cs; the per-fixture choices
mirror GoldenRunner (torch_ops), ModelGoldenTests, LayerGoldenTests, CheckpointTests, OptimizerGoldenTests,
SchedulerGoldenTests, LogitMethodGoldenTests, FeatureMethodGoldenTests and MatchingStepTests). Change both together.

An element passes when |a - e| <= atol + rtol |e| + scale_rtol * rms(expected tensor):
  - atol, rtol: torch.testing.assert_close's defaults (float32 1e-5 / 1.3e-6, float64 1e-7 / 1e-7);
  - scale_rtol = 2 * lambda * u * sum_l sqrt(n_l) for a float32 chain of reductions of lengths n_l (u = 2^-24,
    lambda = 6: Higham and Mary's probabilistic rounding bound, two machines each within it), or 2 * ops * u
    for a chain of elementwise ops;
  - float32 results against a float64 reference (method goldens): rtol * max|expected| (1e-5 where the
    reference is all zero).
Integers, strings and keys compare exactly.

Usage: compare_fixtures.py EXPECTED_DIR ACTUAL_DIR [FILE ...]   (exit 1 and a list when something is outside)
"""
import json
import math
import os
import sys

U = 2.0 ** -24
LAMBDA = 6.0


class Tol:
    def __init__(self, rtol, atol, scale, reason, to_max=False, exact=False):
        self.rtol, self.atol, self.scale, self.reason, self.to_max, self.exact = rtol, atol, scale, reason, to_max, exact

    def allowed(self, e, rms):
        return self.atol + self.rtol * abs(e) + self.scale * rms

    def describe(self, rms):
        if self.exact:
            return self.reason
        if self.to_max:
            return f"{self.rtol:g} x max|expected| ({self.reason})"
        extra = f" + {self.scale:.3g} x rms {rms:.4g}" if self.scale else ""
        return f"{self.atol:g} + {self.rtol:g}|expected|{extra} ({self.reason})"


FLOAT32 = Tol(1.3e-6, 1e-5, 0.0, "torch.testing's float32 default: one float32 op")
FLOAT64 = Tol(1e-7, 1e-7, 0.0, "torch.testing's float64 default: one float64 op")
EXACT = Tol(0.0, 0.0, 0.0, "integers compare exactly", exact=True)


def for_dtype(dtype):
    return FLOAT64 if dtype == "float64" else FLOAT32 if dtype in ("float32", "float16", "bfloat16") else EXACT


def chain(lengths, what):
    lengths = list(lengths)
    return Tol(FLOAT32.rtol, FLOAT32.atol, 2 * LAMBDA * U * sum(math.sqrt(max(n, 1)) for n in lengths),
               f"{what}: float32 chain of {len(lengths)} reductions of up to {max(lengths, default=0)} terms")


def elementwise(ops, what):
    return Tol(FLOAT32.rtol, FLOAT32.atol, 2 * ops * U, f"{what}: float32 chain of {ops} elementwise ops")


def to_scale(rtol):
    return Tol(rtol, 0.0, 0.0, "float32 result against a float64 reference", to_max=True)


def network(keys, what):
    """GoldenTolerance.ForNetwork: a reduction per >= 2-D weight (fan-in; in_proj_weight three), per 1-D weight without a running_mean."""
    names = {k for k, _ in keys}
    lengths = []
    for key, shape in keys:
        if not key.endswith("weight"):
            continue
        if len(shape) >= 2:
            fan_in = math.prod(shape[1:])
            lengths += [fan_in] * (3 if key.endswith("in_proj_weight") else 1)
        elif len(shape) == 1 and key[:-len("weight")] + "running_mean" not in names:
            lengths.append(shape[0])
    return chain(lengths, what)


def layer_chain(name, layer):
    """LayerGoldenTests.ForwardAndBackward."""
    state = layer["initial_state"]
    longest = max([len(t["data"]) for t in state.values()] + [len(layer["input"]["data"])])
    layers = max(1, sum(3 if k.endswith("in_proj_weight") else 1 if k.endswith("weight") else 0 for k in state))
    return chain([longest] * (2 * layers), f"{name} forward and backward")


def is_tensor(x):
    return isinstance(x, dict) and set(x) == {"dtype", "shape", "data"}


def number(v):
    return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v] if isinstance(v, str) else float(v)


def accepts(a, e, tol, rms):
    if math.isnan(a) or math.isnan(e):
        return math.isnan(a) and math.isnan(e)
    if math.isinf(a) or math.isinf(e):
        return a == e
    return abs(a - e) <= tol.allowed(e, rms)


class Comparison:
    def __init__(self):
        self.failures, self.values, self.changed, self.worst = [], 0, 0, (0.0, "")

    def fail(self, where, text):
        self.failures.append(f"{where}: {text}")

    def note(self, where, a, e, allowed):
        self.values += 1
        if a != e:
            self.changed += 1
            if allowed > 0 and math.isfinite(a) and math.isfinite(e) and abs(a - e) / allowed > self.worst[0]:
                self.worst = (abs(a - e) / allowed, where)

    def tensor(self, where, e, a, tol):
        if not is_tensor(a):
            return self.fail(where, "is no longer a tensor")
        if e["dtype"] != a["dtype"] or e["shape"] != a["shape"]:
            return self.fail(where, f"{a['dtype']} {a['shape']}, committed {e['dtype']} {e['shape']}")
        if for_dtype(e["dtype"]).exact:
            tol = EXACT
        ev, av = [number(v) for v in e["data"]], [number(v) for v in a["data"]]
        finite = [v for v in ev if math.isfinite(v)]
        if tol.to_max:
            largest = max((abs(v) for v in finite), default=0.0)
            bound = FLOAT32.atol if largest < 1e-10 else tol.rtol * largest
            tol = Tol(0.0, bound, 0.0, tol.describe(0) + f" = {bound:.3g}")
            rms = 0.0
        else:
            rms = math.sqrt(sum(v * v for v in finite) / len(finite)) if finite else 0.0
        bad = [i for i, (x, y) in enumerate(zip(av, ev)) if not accepts(x, y, tol, rms)]
        for i, (x, y) in enumerate(zip(av, ev)):
            self.note(f"{where}[{i}]", x, y, tol.allowed(y, rms))
        if bad:
            i = bad[0]
            self.fail(where, f"element {i} is {av[i]!r}, committed {ev[i]!r}: difference {abs(av[i] - ev[i]):.3g} > allowed "
                             f"{tol.allowed(ev[i], rms):.3g} = {tol.describe(rms)}; {len(bad)} of {len(ev)} elements outside")

    def scalar(self, where, e, a, tol, allowed=None):
        if isinstance(e, bool) or isinstance(e, str) or e is None or (isinstance(e, int) and isinstance(a, int)):
            if e != a:
                self.fail(where, f"{a!r}, committed {e!r}")
            return
        if not isinstance(a, (int, float)):
            return self.fail(where, f"{a!r}, committed {e!r}")
        a, e = float(a), float(e)
        bound = tol.allowed(e, 0.0) if allowed is None else allowed
        self.note(where, a, e, bound)
        if not accepts(a, e, Tol(0.0, bound, 0.0, ""), 0.0):
            self.fail(where, f"{a!r}, committed {e!r}: difference {abs(a - e):.3g} > allowed {bound:.3g} ({tol.describe(0.0)})")

    def tree(self, where, e, a, rule):
        """rule(path) -> Tol for the tensor or float at that path."""
        if is_tensor(e):
            return self.tensor("/".join(where), e, a, rule(where) or for_dtype(e["dtype"]))
        if isinstance(e, dict):
            if not isinstance(a, dict) or list(e) != list(a):
                return self.fail("/".join(where), f"keys {list(a)[:8] if isinstance(a, dict) else type(a).__name__}, committed {list(e)[:8]}")
            for k in e:
                self.tree(where + [k], e[k], a[k], rule)
            return
        if isinstance(e, list):
            if not isinstance(a, list) or len(a) != len(e):
                return self.fail("/".join(where), f"length {len(a) if isinstance(a, list) else '-'}, committed {len(e)}")
            for i, (x, y) in enumerate(zip(e, a)):
                self.tree(where + [str(i)], x, y, rule)
            return
        self.scalar("/".join(where), e, a, rule(where) or FLOAT64)

    def summary(self, where, e, a, tol):
        """ModelGoldenTests.AssertSummary: the element rule and what it implies for the sum and the sum of squares."""
        if e["shape"] != a["shape"]:
            return self.fail(where, f"shape {a['shape']}, committed {e['shape']}")
        n = float(math.prod(e["shape"]))
        s2 = e["sum_squares"]
        rms = math.sqrt(s2 / max(n, 1))
        uniform = tol.atol + tol.scale * rms
        magnitudes = math.sqrt(n * s2)
        self.scalar(where + "/sum", e["sum"], a["sum"], tol, n * uniform + tol.rtol * magnitudes)
        self.scalar(where + "/sum_squares", s2, a["sum_squares"], tol,
                    2 * uniform * magnitudes + 2 * tol.rtol * s2 + 2 * (n * uniform * uniform + tol.rtol ** 2 * s2))
        if len(e["head"]) != len(a["head"]):
            return self.fail(where + "/head", "length differs")
        for i, (x, y) in enumerate(zip(e["head"], a["head"])):
            self.scalar(f"{where}/head/{i}", x, y, tol, tol.allowed(x, rms))


def compare_models(c, e, a):
    for name, model in e.items():
        if name not in a:
            c.fail(name, "missing")
            continue
        other = a[name]
        c.tree([name, "keys"], model["keys"], other["keys"], lambda p: None)
        c.tree([name, "input_shape"], model["input_shape"], other["input_shape"], lambda p: None)
        tol = network(model["keys"], name)
        c.tensor(f"{name}/logits", model["logits"], other["logits"], tol)
        if list(model["taps"]) != list(other["taps"]):
            c.fail(f"{name}/taps", f"{list(other['taps'])}, committed {list(model['taps'])}")
            continue
        for tap, s in model["taps"].items():
            c.summary(f"{name}/taps/{tap}", s, other["taps"][tap], tol)
    for name in a:
        if name not in e:
            c.fail(name, "new case (not in the committed fixture)")


SAFETENSORS_TYPES = {"F32": ("f", "float32"), "F64": ("d", "float64"), "I64": ("q", "int64"), "I32": ("i", "int32"),
                     "U8": ("B", "uint8"), "BOOL": ("B", "bool")}


def read_safetensors_as_fixture(path):
    """{name: {"dtype", "shape", "data"}} like the JSON fixtures, plus the metadata (little-endian data, stdlib only)."""
    import array
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        code, dtype = SAFETENSORS_TYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        values = array.array(code, raw[8 + n + begin:8 + n + end])
        if sys.byteorder != "little":
            values.byteswap()
        out[name] = {"dtype": dtype, "shape": e["shape"], "data": values.tolist()}
    return out, metadata


def safetensors_shapes(path):
    """[(name, shape)] from a safetensors header, in file order (CheckpointTests builds its tolerance from them)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    return [(k, v["shape"]) for k, v in header.items() if k != "__metadata__"]


def rules(fixture, e, folder):
    """The tolerance the C# test applies at a path of a fixture, or None for the default: a tensor's dtype
    default (for_dtype), FLOAT64 for a plain JSON float (a Python float, computed in float64)."""
    if fixture == "nn_modules.json":
        def nn(path):
            if path[0] == "layers" and len(path) > 2 and path[2] in ("output", "input_grad", "param_grads", "final_state"):
                return layer_chain(path[1], e["layers"][path[1]])
            if path[:2] == ["small_net", "output"]:
                return network(safetensors_shapes(os.path.join(folder, "pytorch_small_net.safetensors")), "small net")
            if path[0] == "optimizers" and len(path) > 2 and path[2] == "after":
                return elementwise(16 * len(e["optimizers"][path[1]]["coefficients"]), path[1])
            return None
        return nn
    if fixture == "torch_ops.json":
        def op(path):  # GoldenRunner: float32 outputs one reduction as long as the largest input, gradients two
            if len(path) > 3 and path[0] == "cases" and path[2] in ("outputs", "grads"):
                case = e["cases"][path[1]]
                if case[path[2]][path[3]]["dtype"] != "float32":
                    return None
                tensors = list(case.get("inputs", {}).values()) + list(case.get("grad_outputs", {}).values())
                longest = max([len(t["data"]) for t in tensors] + [1])
                return chain([longest] * (1 if path[2] == "outputs" else 2), path[1])
            return None
        return op
    if fixture == "feature_methods.json":
        def feature(path):
            if len(path) > 1 and path[1] == "expected":
                return to_scale(1e-3 if "expected_float32" in e[path[0]] else 2e-5)
            if len(path) > 1 and path[1] == "expected_float32":
                return to_scale(2e-3)
            return None
        return feature
    if fixture == "matching_step.json":
        return lambda path: to_scale(1e-5) if len(path) > 1 and path[1] == "cost" else None
    return lambda path: None


def compare_file(path_e, path_a):
    c = Comparison()
    name = os.path.basename(path_e)
    if name.endswith(".safetensors"):
        # A PyTorch-written state dict (pytorch_small_net.safetensors): the tests load it as the weights, so its
        # tensors compare at their dtype's one-op default and its metadata exactly.
        (e, meta_e), (a, meta_a) = read_safetensors_as_fixture(path_e), read_safetensors_as_fixture(path_a)
        c.tree(["metadata"], meta_e, meta_a, lambda p: None)
        c.tree([], e, a, lambda p: None)
        return c
    with open(path_e) as f:
        e = json.load(f)
    with open(path_a) as f:
        a = json.load(f)
    if name == "models.json":
        compare_models(c, e, a)
    else:
        c.tree([], e, a, rules(name, e, os.path.dirname(path_e)))
    return c


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    expected_dir, actual_dir, files = argv[1], argv[2], argv[3:]
    if not files:
        files = sorted(f for f in os.listdir(expected_dir) if f.endswith((".json", ".safetensors")))
    status = 0
    for f in files:
        pe, pa = os.path.join(expected_dir, f), os.path.join(actual_dir, f)
        if not os.path.exists(pa):
            print(f"MISSING  {f}: not in {actual_dir}")
            status = 1
            continue
        c = compare_file(pe, pa)
        if c.failures:
            status = 1
            print(f"MISMATCH {f}: {len(c.failures)} value(s) outside the test tolerance")
            for line in c.failures[:40]:
                print(f"    {line}")
            if len(c.failures) > 40:
                print(f"    ... and {len(c.failures) - 40} more")
        else:
            worst = f"; largest difference {c.worst[0]:.2g} of the allowed ({c.worst[1]})" if c.changed else ""
            print(f"ok       {f}: {c.values} float values, {c.changed} not bit-identical, all within tolerance{worst}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
