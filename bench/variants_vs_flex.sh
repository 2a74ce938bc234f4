#!/usr/bin/env bash
# On the GPU machine, one call: the attention variants against FlexAttention (issue "variants as
# plugins", item 8). Accuracy of every variant (the GPU suite's variant cases), then the speed of
# each shipped variant at d=128, bf16, H=16, forward and forward+backward, ours (block-sparse
# kernels for masked variants) and torch's flex_attention (compiled, same mask) in the same call,
# plus plain causal attention for the document-mask target (8 documents take ~1/8 of causal).
# Bundle first: tools/make_gpu_bundle.sh //tests/gpu:attention_gpu_test //bench:flash_attn
#
# Usage: bench/variants_vs_flex.sh OUT_DIR [SHAPES]   SHAPES default "2x16384 8x4096"
set -uo pipefail
out=$1
shapes=${2:-"2x16384 8x4096"}
mkdir -p "$out"
R=gpu_bundle/run.sh
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/card.txt"
timeout 120 $R //tests/gpu:attention_gpu_test "[variants]" 2>&1 | tail -4 | tee "$out/accuracy.txt"
parts=()
for bs in $shapes; do
  b=${bs%x*}; s=${bs#*x}
  for v in document_mask prefix_lm sliding_window_sinks alibi rel_pos_bias head_temperature; do
    mask=""; case $v in document_mask|prefix_lm|sliding_window_sinks) mask=--block_mask;; esac
    for fwd in --fwd_only ""; do
      f="$out/ours_${v}_${bs}${fwd}.json"
      timeout 120 $R //bench:flash_attn --func flash_attn_func --batch_size $b --seq_len $s --nheads 16 \
        --head_size 128 --dtype bf16 --variant $v $mask $fwd --json "$f" > /dev/null 2>> "$out/errors.txt" && parts+=("$f")
    done
  done
  for fwd in --fwd_only ""; do  # plain causal, the document mask's yardstick
    f="$out/ours_causal_${bs}${fwd}.json"
    timeout 120 $R //bench:flash_attn --func flash_attn_func --batch_size $b --seq_len $s --nheads 16 --head_size 128 \
      --dtype bf16 --causal $fwd --json "$f" > /dev/null 2>> "$out/errors.txt"
  done
done
python3 bench/merge_results.py "$out/ours.json" "${parts[@]}"
timeout 400 python3 bench/compare_flex.py --ours "$out/ours.json" --json "$out/flex.json" 2>> "$out/errors.txt" | tee "$out/flex_table.md"
