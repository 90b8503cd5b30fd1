#!/usr/bin/env python3
"""Runs ONNX's own checker, with shape inference, on each exported file named on the command line.

    /usr/bin/python3 eng/golden/onnx_check.py FILE.onnx [FILE.onnx ...]

Prints one line per file: "ok NAME opset N nodes N" or "FAIL NAME: reason"; exits 1 when any file fails.
Needs Debian's python3-onnx (eng/setup.sh installs it). The C# test Distill.Tests.Export.OnnxCheckerTests runs it
on files that Distill exports.
"""
import sys

import onnx
import onnx.checker
import onnx.shape_inference


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    graph = inferred.graph
    if [i.name for i in graph.input] != ["input"] or [o.name for o in graph.output] != ["logits"]:
        raise ValueError(f"inputs {[i.name for i in graph.input]}, outputs {[o.name for o in graph.output]}")
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    if batch.dim_param != "batch":
        raise ValueError(f"the input's first dimension is {batch}, not the symbolic 'batch'")
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    return f"opset {opset} nodes {len(graph.node)}"


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            print(f"ok {path} {check(path)}")
        except Exception as e:  # noqa: BLE001 - every failure is reported by file
            failed += 1
            print(f"FAIL {path}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
