#!/usr/bin/env bash
# racecheck with its full report on the roles bundle's d=128 dK/dV; the odd shapes (escaped name) on head and roles.
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
el() { echo $(( $(date +%s) - s )); }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
unpack devrun/gpu_bundle_roles.tar.gz
timeout 60 compute-sanitizer --tool racecheck --print-limit 40 gpu_bundle/run.sh //bench:flash_attn --func flash_attn_func --batch_size 1 \
  --seq_len 700 --nheads 3 --head_size 128 --dtype bf16 --causal --warmup 0 --iters 1 > $W/racecheck_roles.txt 2>&1
echo "race t=$(el)"; grep -A3 "Race reported" $W/racecheck_roles.txt | head -16; save
odd() { timeout 100 gpu_bundle/run.sh //tests/gpu:attention_gpu_test 'long\, odd and ragged shapes' > $W/odd_$1.txt 2>&1; echo "odd $1 rc=$? t=$(el)"; grep -E "FAILED|FAIL|failed|passed|error" $W/odd_$1.txt | head -12; }
odd roles; save
unpack devrun/gpu_bundle_head.tar.gz; odd head; save
echo "all t=$(el)"
