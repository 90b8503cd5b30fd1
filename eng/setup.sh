#!/usr/bin/env bash
# Installs what Distill needs on a Debian 12 machine, and the extra packages named as arguments. Idempotent; costs well under a second when
# everything is present (one dpkg-query call). Called by ./test and ./distill when something is missing.
set -euo pipefail

TORCH_VERSION="1.13.1+dfsg-4"
packages=(cmake g++ "libtorch-dev=${TORCH_VERSION}" "python3-torch=${TORCH_VERSION}" dataset-fashion-mnist python3-numpy python3-scipy python3-onnx
          libopencv-imgcodecs-dev libopenblas0-openmp libblas3 libgloo-dev)
# libopenblas0-openmp: libtorch's matrix products run on whichever libblas.so.3 the system chose, and Debian's fallback is the
# reference BLAS (libblas3, kept to compare against), about 10x slower; OpenBLAS registers itself as the preferred choice.
# libgloo-dev: the Gloo headers the shim's data-parallel part compiles against (libtorch already links libgloo).
# Extra packages named on the command line (eng/setup.sh chromium: the browser eng/check-report.sh renders reports in).
packages+=("$@")

missing=()
for spec in "${packages[@]}"; do
  name="${spec%%=*}"
  want="${spec#*=}"
  have=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null || true)
  if [[ "$have" != installed* ]]; then
    missing+=("$spec")
  elif [[ "$spec" == *=* && "$have" != "installed $want" ]]; then
    missing+=("$spec")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "eng/setup.sh: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# An empty or stale package list makes apt-get install fail; refresh it once per setup.
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "eng/setup.sh: done" >&2
