#!/usr/bin/env bash
# The end-to-end benchmark (`--e2e`: a KD step and a CE step, each beside PyTorch in the same process run) of an
# older commit and of this working tree, alternated ROUNDS times so both see the same machine state.
#   eng/bench/e2e_against.sh REV [ROUNDS] [STEPS]     e.g. eng/bench/e2e_against.sh 6b3ae56 3 10
# The older commit is checked out in a temporary worktree and built there (native shim included: minutes).
set -euo pipefail
rev=${1:?usage: eng/bench/e2e_against.sh REV [ROUNDS] [STEPS]}
rounds=${2:-3}
steps=${3:-10}
here=$(cd "$(dirname "$0")/../.." && pwd)
base=$(mktemp -d /tmp/distill-e2e-XXXXXX)
trap 'git -C "$here" worktree remove --force "$base" >/dev/null 2>&1 || true' EXIT
git -C "$here" worktree add -q --detach "$base" "$rev"
build() { (cd "$1" && ./test --filter "FullyQualifiedName~NoSuchTest" >/dev/null && dotnet build -c Release benchmarks/Distill.Benchmarks -nologo -v quiet -clp:ErrorsOnly >/dev/null); }
echo "building $rev in $base and this tree ..."
build "$base"
build "$here"
for r in $(seq 1 "$rounds"); do
  for side in "$rev" this; do
    dir=$base; [ "$side" = this ] && dir=$here
    echo "== round $r: $side"
    (cd "$dir" && dotnet benchmarks/Distill.Benchmarks/bin/Release/net10.0/Distill.Benchmarks.dll --e2e --steps "$steps" | grep -E "KD resnet|CE resnet|peak")
  done
done
