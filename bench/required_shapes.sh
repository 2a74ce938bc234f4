#!/usr/bin/env bash
# On the GPU machine: the speed cases the flash-attn API is judged on (bf16, H=16, D=128,
# B x S in 2x4096, 16x4096, 2x16384; causal and not; forward, and forward+backward unless
# --fwd_only), ours then PyTorch SDPA (FA2 and cuDNN backends) in the same call, one table.
#
# Usage: bench/required_shapes.sh OUT_DIR [--fwd_only] [extra //bench:flash_attn flags...]
set -euo pipefail
out=$1; shift
modes=("--fwd_only" "")
if [ "${1:-}" = "--fwd_only" ]; then modes=("--fwd_only"); shift; fi
mkdir -p "$out"
parts=()
for causal in --causal ""; do
  for mode in "${modes[@]}"; do
    for bs in 2x4096 16x4096 2x16384; do
      b=${bs%x*} s=${bs#*x}
      f="$out/ours_${b}x${s}${causal}${mode}.json"
      gpu_bundle/run.sh //bench:flash_attn --batch_size "$b" --seq_len "$s" --nheads 16 --head_size 128 \
        --dtype bf16 $causal $mode --warmup 3 --iters 20 --json "$f" "$@"
      parts+=("$f")
    done
  done
done
python3 bench/merge_results.py "$out/ours.json" "${parts[@]}"
python3 bench/compare_sdpa.py --ours "$out/ours.json" --warmup 3 --iters 20 --json "$out/sdpa.json"
