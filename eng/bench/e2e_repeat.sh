#!/usr/bin/env bash
# The end-to-end benchmark (`--e2e`: KD steps, the bf16-teacher and soft-label-store steps and a CE step, each beside
# PyTorch 1.13 eager in the same run) RUNS times in a row, then each row's Distill/PyTorch ratio as mean ± sample std
# over the runs (with min and max): one run's ratio moves by several percent with the machine's load.
#   eng/bench/e2e_repeat.sh [RUNS] [STEPS]     e.g. eng/bench/e2e_repeat.sh 5 10
# Builds the benchmark (Release) first; each run's full output is kept in a temporary folder, printed path.
set -euo pipefail
runs=${1:-5}
steps=${2:-10}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
dotnet build -c Release benchmarks/Distill.Benchmarks -nologo -v quiet -clp:ErrorsOnly >/dev/null
out=$(mktemp -d /tmp/distill-e2e-repeat-XXXXXX)
echo "$runs runs of --e2e --steps $steps; $(nproc) cores; $(git rev-parse --short HEAD 2>/dev/null || echo '?'); outputs in $out"
for r in $(seq 1 "$runs"); do
  benchmarks/Distill.Benchmarks/bin/Release/net10.0/Distill.Benchmarks --e2e --steps "$steps" >"$out/run$r.txt"
  echo "run $r: load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
# Rows are the lines ending in a ratio ("1.09x"); the row's name is everything before its two rates.
cat "$out"/run*.txt | awk '
  / [0-9.]+x$/ {
    n = NF; name = $1; for (i = 2; i <= n - 3; i++) name = name " " $i
    r = substr($n, 1, length($n) - 1) + 0
    if (!(name in count)) order[++rows] = name
    count[name]++; sum[name] += r; sq[name] += r * r
    if (!(name in lo) || r < lo[name]) lo[name] = r
    if (!(name in hi) || r > hi[name]) hi[name] = r
  }
  END {
    printf "%-44s %6s %16s %14s\n", "row", "runs", "Distill/PyTorch", "min-max"
    for (k = 1; k <= rows; k++) {
      name = order[k]; c = count[name]; m = sum[name] / c
      v = c > 1 ? (sq[name] - c * m * m) / (c - 1) : 0; if (v < 0) v = 0
      printf "%-44s %6d %9.2fx ± %.2f %8.2f-%.2fx\n", name, c, m, sqrt(v), lo[name], hi[name]
    }
  }'
