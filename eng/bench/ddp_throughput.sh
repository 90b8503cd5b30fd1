#!/usr/bin/env bash
# Data-parallel throughput: the same recipe trained by 1 and by 2 processes (`distill train --nproc N`), images/s as
# the run logs it (epochs.csv, images_per_second: the whole job's training images per second of the epoch, evaluation
# not counted), with the machine's cores and load average beside it.
#   eng/bench/ddp_throughput.sh [RECIPE] [TRAIN_SUBSET] [ROUNDS]
#   e.g. eng/bench/ddp_throughput.sh configs/fashion-mnist/none/resnet8.yaml 4096 2
# Each run is one epoch over the first TRAIN_SUBSET training images (test set cut to 512), written under a
# temporary folder. The processes share the machine's cores (each gets cores / N intra-op threads), so 2 processes
# can only beat 1 where one process leaves cores idle or the per-rank work scales worse than linearly.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
recipe=${1:-configs/fashion-mnist/none/resnet8.yaml}
subset=${2:-4096}
rounds=${3:-2}
out=$(mktemp -d /tmp/distill-ddp-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT
cd "$here"
echo "recipe $recipe, train_subset $subset, 1 epoch; $(nproc) cores; $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for r in $(seq 1 "$rounds"); do
  for n in 1 2; do
    dir="$out/r$r-n$n"
    ./distill train --config "$recipe" --nproc "$n" --set "data.train_subset=$subset" --set data.test_subset=512 \
      --set train.epochs=1 --set "output=$dir" >/dev/null
    ips=$(awk -F, 'NR == 2 { print $5 }' "$dir/epochs.csv")
    echo "round $r  nproc $n  images/s $(printf '%.0f' "$ips")  load average $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
