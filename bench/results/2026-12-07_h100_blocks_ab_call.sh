#!/usr/bin/env bash
# Block-shape A/B through override cubins (their own TMA boxes): d=256 forward at 128x64 (rotated
# and not) and 128x32 unrotated against the built-in 128x32; d=64 dK/dV at BLOCK_M=128 against 64.
# Accuracy of every override first; SDPA (FA2, cuDNN) in the same call.
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
save() { tar czf $OUT/results.tgz -C $W . ; }
rm -rf gpu_bundle; tar xzf devrun/gpu_bundle_head.tar.gz
R=gpu_bundle/run.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
ov() { realpath kernel_overrides/$1; }
for o in fwd256_n64 fwd256_n64_norot fwd256_n32_norot bwd64_m128; do
  for t in "every head dim at flash-attn's seqlen pairs" "long\\, odd and ragged shapes"; do
    echo "== $o: $t"; TILE_KERNEL_OVERRIDE_DIR=$(ov $o) timeout 120 $R //tests/gpu:attention_gpu_test "$t" 2>&1 | grep -E "passed|failed|FAILED|rror" | head -5
  done
done 2>&1 | tee $W/accuracy.txt
save; echo "acc t=$(( $(date +%s) - s ))"
rows() {  # $1 out json, $2 "fwd" or "bwd", rest: override dir or nothing
  local out=$1 kind=$2; shift 2; local parts=() r m d bs b s f causal extra=""
  local list="c:256:2x8192 n:256:2x8192 c:256:8x4096 n:256:2x16384"
  [ $kind = fwd ] && extra=--fwd_only
  [ $kind = bwd ] && list="c:64:2x8192 n:64:2x8192 c:64:16x4096 n:64:2x16384"
  for r in $list; do
    m=${r%%:*} r=${r#*:} d=${r%%:*} bs=${r#*:} b=${bs%x*} s=${bs#*x}; causal=""; [ $m = c ] && causal=--causal
    f="$W/p_d${d}_${b}x${s}${causal}.json"
    timeout 40 env ${1:+TILE_KERNEL_OVERRIDE_DIR=$1} $R //bench:flash_attn --func flash_attn_func --batch_size $b --seq_len $s --nheads 16 \
      --head_size $d --dtype bf16 $causal $extra --warmup 3 --iters 20 --json "$f" >/dev/null 2>&1 && parts+=("$f")
  done
  python3 bench/merge_results.py "$out" "${parts[@]}"; rm -f "${parts[@]}"
}
for round in 1 2; do
  rows $W/fwd_head_$round.json fwd
  for o in fwd256_n64 fwd256_n64_norot fwd256_n32_norot; do rows $W/${o}_$round.json fwd $(ov $o); done
  rows $W/bwd_head_$round.json bwd
  rows $W/bwd64_m128_$round.json bwd $(ov bwd64_m128)
done
save; echo "ab t=$(( $(date +%s) - s ))"
python3 bench/compare_sdpa.py --ours $W/fwd_head_1.json --warmup 3 --iters 20 --json $W/sdpa_fwd.json > $W/table_fwd_head_1.txt 2>&1
python3 bench/compare_sdpa.py --ours $W/bwd_head_1.json --warmup 3 --iters 20 --json $W/sdpa_bwd.json > $W/table_bwd_head_1.txt 2>&1
for round in 1 2; do
  for o in fwd_head fwd256_n64 fwd256_n64_norot fwd256_n32_norot; do
    python3 bench/compare_sdpa.py --ours $W/${o}_$round.json --sdpa $W/sdpa_fwd.json > $W/table_${o}_$round.txt 2>&1; done
  for o in bwd_head bwd64_m128; do
    python3 bench/compare_sdpa.py --ours $W/${o}_$round.json --sdpa $W/sdpa_bwd.json > $W/table_${o}_$round.txt 2>&1; done
done
save
for f in $W/table_*.txt; do echo "== $f"; grep "^| [01] " $f | awk -F'|' '{print $2,$4,$5,$7,$8}'; done
echo "all t=$(( $(date +%s) - s ))"
