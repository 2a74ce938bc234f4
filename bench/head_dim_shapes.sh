#!/usr/bin/env bash
# On the GPU machine: speed across head dims (bf16, B=2, S=8192, H=16; head_dim 64, 80, 96, 160,
# 192, 256 and head_dim_v != head_dim 192/128; causal and not; forward and forward+backward),
# ours then PyTorch SDPA (FA2 and cuDNN backends) in the same call, one table.
#
# Usage: bench/head_dim_shapes.sh OUT_DIR [extra //bench:flash_attn flags...]
set -euo pipefail
out=$1; shift
mkdir -p "$out"
parts=()
for dims in 64 80 96 160 192 256 192/128; do
  d=${dims%/*} dv=${dims#*/}
  for causal in --causal ""; do
    for mode in --fwd_only ""; do
      f="$out/ours_d${d}_dv${dv}${causal}${mode}.json"
      gpu_bundle/run.sh //bench:flash_attn --func flash_attn_func --batch_size 2 --seq_len 8192 --nheads 16 \
        --head_size "$d" --head_size_v "$dv" --dtype bf16 $causal $mode --warmup 3 --iters 20 --json "$f" "$@"
      parts+=("$f")
    done
  done
done
python3 bench/merge_results.py "$out/ours.json" "${parts[@]}"
python3 bench/compare_sdpa.py --ours "$out/ours.json" --warmup 3 --iters 20 --json "$out/sdpa.json"
