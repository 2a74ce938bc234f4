#!/usr/bin/env bash
# On the GPU machine: Nsight Compute profiles of one forward launch (d=128, bf16, 2x8192, H=16)
# and one DSL GEMM launch (4096^3), each as the details page (speed of light, warp states,
# scheduler, pipes) and the SASS source page with the sampled stall reasons per instruction.
# Clocks are left alone (--clock-control none). Bundle first:
#   tools/make_gpu_bundle.sh //bench:flash_attn //tools:gemm_bench
#
# Usage: bench/profile_kernels.sh OUT_DIR [--causal]
set -uo pipefail
out=$1; shift
causal=${1:-}
mkdir -p "$out"
R=gpu_bundle/run.sh
profile() {  # name kernel-regex command...
  local name=$1 regex=$2; shift 2
  timeout 240 ncu --clock-control none --set full --import-source no -k "regex:$regex" -c 1 --launch-skip 1 \
    -f -o "$out/$name" "$@" >"$out/$name.log" 2>&1
  echo "$name: ncu rc=$?"
  ncu --import "$out/$name.ncu-rep" --page details >"$out/$name.details.txt" 2>&1
  ncu --import "$out/$name.ncu-rep" --page source --csv --print-source sass >"$out/$name.sass.csv" 2>&1
  rm -f "$out/$name.ncu-rep"
}
profile fwd fwd $R //bench:flash_attn --func flash_attn_func --batch_size 2 --seq_len 8192 --nheads 16 \
  --head_size 128 --dtype bf16 $causal --fwd_only --warmup 1 --iters 1
profile gemm gemm $R //tools:gemm_bench --sizes 4096 --warmup 1 --iters 1
