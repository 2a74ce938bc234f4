#!/usr/bin/env bash
# On the GPU machine, one call: everything the backward work is checked and timed by.
#   1. accuracy: the GPU suite's odd shapes, every head dim at flash-attn's seqlen pairs,
#      deterministic=True bit-exact over 50 runs, and the grid (every compiled kernel, both dQ
#      strategies);
#   2. speed: bench/required_shapes.sh (forward and forward+backward at d=128, ours then PyTorch
#      SDPA FA2 and cuDNN in the same call), and forward+backward at d=64 and d=256;
#   3. with --sanitize instead: compute-sanitizer memcheck, racecheck and synccheck on forward
#      and backward (bf16 and fp16, head dims 64/128/256, one small shape each).
# Bundle first: tools/make_gpu_bundle.sh //tests/gpu:attention_gpu_test //bench:flash_attn (over
# 60 MiB it also packs gpu_bundle.tar.gz: carry that and unpack it first, tar xzf gpu_bundle.tar.gz)
#
# A/B of a kernel change against the built-in kernels, same call: bench/backward_ab_quick.sh.
#
# Usage: bench/hopper_backward.sh OUT_DIR [--sanitize]
set -uo pipefail
out=$1; shift
mkdir -p "$out"
R=gpu_bundle/run.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/card.txt"
if [ "${1:-}" = "--sanitize" ]; then
  exec bash bench/hopper_forward.sh "$out" --sanitize
fi
# Catch2 reads a comma in a test name as "or": the names below escape theirs.
for t in "long\\, odd and ragged shapes" "every head dim at flash-attn's seqlen pairs" \
         "deterministic=True is bit-exact over 50 runs"; do
  echo "== $t"; timeout 150 $R //tests/gpu:attention_gpu_test "$t" 2>&1 | tail -3
done | tee "$out/accuracy.txt"
bash bench/required_shapes.sh "$out/q" 2>&1 | tail -20 | tee "$out/table.txt"
parts=()
for causal in --causal ""; do
  for d in 64 256; do
    f="$out/ours_d${d}_2x8192${causal}.json"
    timeout 60 $R //bench:flash_attn --func flash_attn_func --batch_size 2 --seq_len 8192 --nheads 16 --head_size $d \
      --dtype bf16 $causal --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
  done
done
python3 bench/merge_results.py "$out/ours_dims.json" "${parts[@]}"
rm -f "${parts[@]}"
python3 bench/compare_sdpa.py --ours "$out/ours_dims.json" --warmup 3 --iters 20 --json "$out/sdpa_dims.json" 2>&1 |
  tee "$out/table_dims.txt"
echo "== grid"; timeout 240 $R //tests/gpu:attention_gpu_test "every compiled specialisation\\, both dQ strategies" 2>&1 |
  tail -3 | tee -a "$out/accuracy.txt"
