#!/usr/bin/env bash
# On the GPU machine, one call: two builds of the project timed against each other and against
# PyTorch SDPA (FA2, cuDNN) run once. Each build is a packed bundle (tools/make_gpu_bundle.sh
# //tests/gpu:attention_gpu_test //bench:flash_attn, gpu_bundle.tar.gz renamed), unpacked in
# turn into gpu_bundle/; every round times the forward's ten rows of bench/hopper_forward.sh
# and forward+backward at 2x16384 (causal and not) with each build, A then B.
#
# Usage: bench/ab_bundles.sh OUT_DIR A.tar.gz B.tar.gz [ROUNDS]   (bf16, H=16, median of 20)
# Writes OUT_DIR/ours_<A|B>_<round>.json, sdpa.json and table_<A|B>_<round>.txt, and leaves
# A's build unpacked in gpu_bundle/ (later checks in the same call run the first build).
set -uo pipefail
usage() { echo "usage: bench/ab_bundles.sh OUT_DIR A.tar.gz B.tar.gz [ROUNDS >= 1]" >&2; exit 2; }
[ $# -ge 3 ] && [ $# -le 4 ] || usage
out=$1 a=$(realpath "$2") b=$(realpath "$3") rounds=${4:-2}
[ -f "$a" ] || { echo "ab_bundles: A: no file $2" >&2; exit 2; }
[ -f "$b" ] || { echo "ab_bundles: B: no file $3" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "ab_bundles: ROUNDS: expected a positive integer, got '$rounds'" >&2; exit 2; }
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$out/card.txt"
rows() {  # $1: merged JSON of this build's rows
  local parts=() causal bsd b s d f
  for causal in --causal ""; do
    for bsd in 2x4096x128 16x4096x128 2x16384x128 2x8192x64 2x8192x256; do
      IFS=x read b s d <<< "$bsd"
      f="$out/part_${b}x${s}x${d}${causal}.json"
      timeout 60 gpu_bundle/run.sh //bench:flash_attn --func flash_attn_func --batch_size "$b" --seq_len "$s" --nheads 16 \
        --head_size "$d" --dtype bf16 $causal --fwd_only --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
    done
    f="$out/part_bwd${causal}.json"
    timeout 60 gpu_bundle/run.sh //bench:flash_attn --func flash_attn_func --batch_size 2 --seq_len 16384 --nheads 16 \
      --head_size 128 --dtype bf16 $causal --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
  done
  python3 bench/merge_results.py "$1" "${parts[@]}"
  rm -f "${parts[@]}"
}
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
for ((r = 1; r <= rounds; r++)); do
  for side in A B; do
    if [ $side = A ]; then unpack "$a"; else unpack "$b"; fi
    rows "$out/ours_${side}_$r.json"
  done
done
python3 bench/compare_sdpa.py --ours "$out/ours_A_1.json" --warmup 3 --iters 20 --json "$out/sdpa.json" >"$out/table_A_1.txt" 2>&1
for ((r = 1; r <= rounds; r++)); do
  for side in A B; do
    [ "$side$r" = A1 ] && continue
    python3 bench/compare_sdpa.py --ours "$out/ours_${side}_$r.json" --sdpa "$out/sdpa.json" >"$out/table_${side}_$r.txt" 2>&1
  done
done
tail -n 14 "$out"/table_*.txt
unpack "$a"
