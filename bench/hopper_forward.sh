#!/usr/bin/env bash
# On the GPU machine, one call: everything the Hopper forward work is checked and timed by.
#   1. accuracy: the GPU suite's odd shapes (the seed shape among them) first, its grid (every
#      compiled kernel) last;
#   2. compute-sanitizer memcheck, racecheck and synccheck on the forward (bf16 and fp16,
#      head dims 64/128/256, one small shape each);
#   3. speed: the required shapes' forward, forward at d=64 and 256, ours then PyTorch SDPA
#      (FA2, cuDNN) in the same call; the DSL GEMM against torch.matmul.
# Bundle first: tools/make_gpu_bundle.sh //tests/gpu:attention_gpu_test //bench:flash_attn
#   //tools:gemm_bench
#
# Usage: bench/hopper_forward.sh OUT_DIR [--sanitize | --ab OVERRIDE_DIR|env:VAR=VALUE...]
#   default: 1 and 3 (about 6 minutes); --sanitize: 2 only (18 sanitizer runs, the forward and
#   backward of one small shape each, up to 60 s a run); --ab: the forward's timings only, with
#   the built-in kernels, then with the cubins of each OVERRIDE_DIR (TILE_KERNEL_OVERRIDE_DIR,
#   named <instance>.cubin), all against one SDPA run (table.txt, table_<dir name>.txt); an
#   entry env:VAR=VALUE times the built-in kernels with that environment variable set instead
#   (env:TILE_FWD_PROGRAMS=1000000: the persistent forward at one pair of tiles per program)
set -uo pipefail
out=$1; shift
sanitize=0; [ "${1:-}" = "--sanitize" ] && sanitize=1
ab=(); if [ "${1:-}" = "--ab" ]; then
  shift; for d in "$@"; do case $d in env:*) ab+=("$d") ;; *) ab+=("$(realpath "$d")") ;; esac; done
fi
mkdir -p "$out"
R=gpu_bundle/run.sh
# Catch2 reads a comma in a test name as "or": the names below escape theirs.
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee "$out/card.txt"
if [ $sanitize = 1 ]; then
  for tool in memcheck racecheck synccheck; do
    for dt in bf16 fp16; do
      for d in 64 128 256; do
        line=$(timeout 60 compute-sanitizer --tool $tool --error-exitcode 9 $R //bench:flash_attn \
          --func flash_attn_func --batch_size 1 --seq_len 300 --nheads 2 --head_size $d --dtype $dt \
          --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|rror" | tr '\n' ' ')
        echo "$tool $dt d=$d: $line rc=${PIPESTATUS[0]}"
      done
    done
  done | tee "$out/sanitizer.txt"
  exit 0
fi
# The forward's timings into $1 (merged JSON): d=128 at three sizes, d=64 and 256 at 2x8192.
time_forward() {
  local parts=() causal bs b s d f
  for causal in --causal ""; do
    for bs in 2x4096 16x4096 2x16384; do
      b=${bs%x*} s=${bs#*x}
      f="$out/ours_d128_${b}x${s}${causal}.json"
      timeout 60 $R //bench:flash_attn --func flash_attn_func --batch_size "$b" --seq_len "$s" --nheads 16 --head_size 128 \
        --dtype bf16 $causal --fwd_only --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
    done
    for d in 64 256; do
      f="$out/ours_d${d}_2x8192${causal}.json"
      timeout 60 $R //bench:flash_attn --func flash_attn_func --batch_size 2 --seq_len 8192 --nheads 16 --head_size $d \
        --dtype bf16 $causal --fwd_only --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
    done
  done
  python3 bench/merge_results.py "$1" "${parts[@]}"
  rm -f "${parts[@]}"
}
if [ ${#ab[@]} -gt 0 ]; then
  time_forward "$out/ours.json"
  python3 bench/compare_sdpa.py --ours "$out/ours.json" --warmup 3 --iters 20 --json "$out/sdpa.json" 2>&1 | tee "$out/table.txt"
  for dir in "${ab[@]}"; do
    if [[ $dir == env:* ]]; then
      setting=${dir#env:} name=$(echo "${dir#env:}" | tr -c 'A-Za-z0-9_\n' '_')
      (export "$setting"; time_forward "$out/ours_$name.json")
      python3 bench/compare_sdpa.py --ours "$out/ours_$name.json" --sdpa "$out/sdpa.json" 2>&1 | tee "$out/table_$name.txt"
      continue
    fi
    name=$(basename "$dir")
    # Which kernels the override replaces (the runtime names each cubin it loads).
    for d in 64 128 256; do
      TILE_KERNEL_OVERRIDE_DIR="$dir" timeout 30 $R //bench:flash_attn --func flash_attn_func --batch_size 1 --seq_len 1000 \
        --nheads 2 --head_size $d --dtype bf16 --causal --fwd_only --warmup 0 --iters 1 2>&1 | grep -E "cubin from|rror"
    done | tee "$out/override_$name.log"
    TILE_KERNEL_OVERRIDE_DIR="$dir" timeout 90 $R //tests/gpu:attention_gpu_test "long\\, odd and ragged shapes" 2>&1 |
      grep -v "cubin from" | tail -3 >>"$out/override_$name.log"
    TILE_KERNEL_OVERRIDE_DIR="$dir" time_forward "$out/ours_$name.json"
    python3 bench/compare_sdpa.py --ours "$out/ours_$name.json" --sdpa "$out/sdpa.json" 2>&1 | tee "$out/table_$name.txt"
  done
  exit 0
fi
timeout 30 $R //bench:flash_attn --func flash_attn_func --batch_size 1 --seq_len 1000 --nheads 2 --head_size 128 \
  --dtype bf16 --fwd_only --warmup 1 --iters 2 2>&1 | tail -3 | tee "$out/smoke.txt"
timeout 90 $R //tests/gpu:attention_gpu_test "long\\, odd and ragged shapes" 2>&1 | tail -4 | tee "$out/accuracy.txt"
time_forward "$out/ours.json"
python3 bench/compare_sdpa.py --ours "$out/ours.json" --warmup 3 --iters 20 --json "$out/sdpa.json" 2>&1 | tee "$out/table.txt"
{ timeout 60 $R //tools:gemm_bench --sizes 4096,8192 --warmup 10 --iters 50; python3 tools/torch_matmul_bench.py --sizes 4096,8192 --warmup 10 --iters 50; } 2>&1 | tee "$out/gemm.txt"
# The whole grid last (the longest part): every compiled kernel against the reference.
timeout 240 $R //tests/gpu:attention_gpu_test "every compiled specialisation\\, both dQ strategies" 2>&1 | tail -4 |
  tee -a "$out/accuracy.txt"
