#!/usr/bin/env bash
# Run THERE (the GPU machine: CUDA, CMake, a python3 with torch; no .NET SDK, no network), from the repository root:
#   bash eng/gpu/run.sh            with .gpu/ (made by eng/gpu/prepare.sh) carried along
# 1. builds the shim with CMake against python3's torch (its CMake config; a plain g++ build if CMake fails),
# 2. runs .gpu/distill-gpucheck on the device: op goldens, a method golden, a resume round trip, the KD step benchmark,
# 3. runs the same KD step in PyTorch eager on the same device (benchmarks/Distill.Benchmarks/kd_step_bench.py),
# 4. writes $OUT/results.json and $OUT/results.md (and run.log) with Distill's images/s, PyTorch's and the ratio.
# DISTILL_GPU_DEVICE=cpu runs the same checks on the CPU (how it is tested on a machine without a GPU);
# DISTILL_GPU_STEPS sets the timed steps (50); PYTHON the interpreter (python3); DISTILL_GPU_NO_CMAKE=1 builds with g++.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/.gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
DEVICE=${DISTILL_GPU_DEVICE:-cuda}
STEPS=${DISTILL_GPU_STEPS:-50}
PY=${PYTHON:-python3}
BUILD=${DISTILL_GPU_BUILD:-/tmp/distill-gpu-build}
JOBS=$(nproc)
start=$(date +%s)
echo "== eng/gpu/run.sh: device $DEVICE, $STEPS steps, $(date -u +%FT%TZ), $(uname -m), $JOBS cores"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader
"$PY" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' || { echo "FAIL: $PY cannot import torch"; exit 2; }
[ -f .gpu/distill-gpucheck ] || { echo "FAIL: .gpu/distill-gpucheck is missing: run eng/gpu/prepare.sh on a machine with the .NET SDK and carry .gpu"; exit 2; }
[ -x .gpu/distill-gpucheck ] || chmod +x .gpu/distill-gpucheck 2>/dev/null || { cp .gpu/distill-gpucheck /tmp/distill-gpucheck && chmod +x /tmp/distill-gpucheck && cp -r .gpu/Fixtures /tmp/; }

echo "== building the shim against $PY's torch"
prefix=$("$PY" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
libdir=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
args=(-S native -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -Wno-dev)
[ -f "$prefix/Torch/TorchConfig.cmake" ] && args+=("-DTorch_DIR=$prefix/Torch")
command -v ninja >/dev/null && args+=(-G Ninja)
rm -rf "$BUILD"
if [ -z "${DISTILL_GPU_NO_CMAKE:-}" ] && cmake "${args[@]}" > "$OUT/cmake.log" 2>&1 && cmake --build "$BUILD" -j "$JOBS" >> "$OUT/cmake.log" 2>&1; then
  grep -E "distill_torch:" "$OUT/cmake.log"
  echo "shim: built with CMake"
else
  if [ -n "${DISTILL_GPU_NO_CMAKE:-}" ]; then
    echo "CMake skipped (DISTILL_GPU_NO_CMAKE); building with g++ directly"
  else
    echo "CMake failed (last lines of $OUT/cmake.log below); building with g++ directly"
    tail -25 "$OUT/cmake.log"
  fi
  mkdir -p "$BUILD"
  read -r abi std incs <<<"$("$PY" - <<'PY'
import torch
from torch.utils.cpp_extension import include_paths
major, minor = (int(v) for v in torch.__version__.split(".")[:2])
std = "c++20" if (major, minor) >= (2, 8) else "c++17"
print(int(torch._C._GLIBCXX_USE_CXX11_ABI), std, ",".join(include_paths()))
PY
)"
  includes=()
  IFS=, read -ra dirs <<<"$incs"
  for d in "${dirs[@]}"; do includes+=(-isystem "$d"); done
  libs=(-ltorch -ltorch_cpu -lc10)
  [ -f "$libdir/libtorch_cuda.so" ] && libs+=(-ltorch_cuda -lc10_cuda)
  g++ -std="$std" -O2 -fPIC -shared -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI="$abi" -DDT_BUILDING_SHIM \
    -Inative/include "${includes[@]}" native/src/*.cpp -o "$BUILD/libdistill_torch.so" \
    -L"$libdir" -Wl,--no-as-needed "${libs[@]}" -Wl,--as-needed -Wl,-rpath,"$libdir" -ldl >> "$OUT/cmake.log" 2>&1 \
    || { tail -40 "$OUT/cmake.log"; echo "FAIL: the shim does not build"; exit 2; }
  echo "shim: built with g++"
fi
echo "[shim built in $(( $(date +%s) - start )) s]"
export DISTILL_NATIVE_PATH="$BUILD/libdistill_torch.so"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== distill-gpucheck on $DEVICE"
app=.gpu/distill-gpucheck
[ -x "$app" ] || app=/tmp/distill-gpucheck
"$app" --device "$DEVICE" --steps "$STEPS" --out "$OUT/distill.json"
check=$?

echo "== PyTorch eager KD step on $DEVICE"
"$PY" benchmarks/Distill.Benchmarks/kd_step_bench.py "$STEPS" --device "$DEVICE" --warmup 5 > "$OUT/pytorch.json"
bench=$?
cat "$OUT/pytorch.json"

"$PY" - "$OUT" "$check" "$bench" <<'PY'
import json, os, sys
out, check, bench = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except Exception as e:
        return {"error": str(e)}
distill, pytorch = load("distill.json"), load("pytorch.json")
ours = (distill.get("bench") or {}).get("kd_images_per_second")
theirs = pytorch.get("kd_images_per_second")
ratio = ours / theirs if ours and theirs else None
ops, method = distill.get("ops") or {}, distill.get("method") or {}
results = {"device": distill.get("device"), "gpu": distill.get("gpu0"), "libtorch": distill.get("libtorch"),
           "torch": pytorch.get("torch"), "checks_exit_code": check, "pytorch_exit_code": bench,
           "ops_passed": ops.get("passed"), "ops_failed": len(ops.get("failed", [])) if "failed" in ops else None,
           "method_passed": method.get("passed"), "method_failed": len(method.get("failed", [])) if "failed" in method else None,
           "resume": distill.get("resume"), "distill_kd_images_per_second": ours,
           "pytorch_kd_images_per_second": theirs, "ratio_distill_over_pytorch": ratio,
           "failures": distill.get("failures")}
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(results, f, indent=2)
fmt = lambda v: "n/a" if v is None else f"{v:.1f}"
lines = [f"# eng/gpu/run.sh on {results['device']} ({results['gpu'] or 'no GPU'})", "",
         f"- libtorch (shim) {results['libtorch']}, PyTorch {results['torch']}",
         f"- op goldens: {results['ops_passed']} passed, {results['ops_failed']} failed; method goldens: {results['method_passed']} passed, {results['method_failed']} failed",
         f"- resume: {json.dumps(results['resume'])}",
         f"- KD step (resnet32x4 -> resnet8x4, batch 64): Distill {fmt(ours)} images/s, PyTorch eager {fmt(theirs)} images/s, ratio {'n/a' if ratio is None else f'{ratio:.2f}x'}",
         f"- failures: {results['failures']}"]
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "[run.sh: $(( $(date +%s) - start )) s]"
[ "$check" -eq 0 ] && [ "$bench" -eq 0 ]
