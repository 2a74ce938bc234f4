#!/usr/bin/env bash
# On the GPU machine: times every candidate built by build_variants.sh on the tuning cases
# (tune_main.cc), checks each one's accuracy, times PyTorch SDPA on the same cases, and prints
# one table (summarize.py). The first variant runs again at the end: the spread between its two
# runs is the noise floor against which the others are judged.
#
# Usage: bench/tune/run_variants.sh OUT_DIR TAG... (tune_bins.tar.xz in the repository root)
set -uo pipefail
out=$1; shift
tags=("$@" "$1")
tmp=$(mktemp -d)
tar -xJf tune_bins.tar.xz
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
run=0
for tag in "${tags[@]}"; do
  run=$((run + 1))
  bin=tune_bins/$tag
  echo "== $tag ($(cat "$bin/SHAPE"))"
  for causal in "" --causal; do
    "$bin/accuracy_gpu" --func flash_attn_qkvpacked_func --backend gpu --batch_size 2 \
      --seq_len 1024 --nheads 16 --head_size 128 --dtype bf16 --seed 1 $causal 2>&1 |
      grep -E "PASS|FAIL|rror" | tail -2 | sed "s/^/  accuracy${causal:+ causal}: /"
  done
  "$bin/tune" "$tmp/${run}_${tag}_cases.json" | sed 's/^/  /'
done
python3 bench/compare_sdpa.py --ours "$tmp/1_$1_cases.json" --warmup 3 --iters 15 \
  --json "$out/sdpa.json" >"$out/sdpa.txt" 2>/dev/null
python3 bench/tune/summarize.py "$tmp" "$out/sdpa.json" "$out/tune.json"
