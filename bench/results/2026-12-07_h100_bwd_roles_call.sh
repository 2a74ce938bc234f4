#!/usr/bin/env bash
# Which odd shape fails on the head bundle; the roles bundle over the odd shapes, the grid,
# determinism, racecheck; backward timings roles vs head at d=128 (and d=64 deterministic).
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
LIMIT=${LIMIT:-380}
el() { echo $(( $(date +%s) - s )); }
room() { [ $(( $(date +%s) - s + $1 )) -le $LIMIT ] || { echo "skip: $2 (t=$(el))"; return 1; }; }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
source devrun/rows.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
odd() { timeout 90 gpu_bundle/run.sh //tests/gpu:attention_gpu_test "long, odd and ragged shapes" > $W/odd_$1.txt 2>&1; echo "odd $1 rc=$? t=$(el)"; grep -E "FAILED|bound:|--func|passed|failed" $W/odd_$1.txt | grep -vE "PASS$" | head -24; }
unpack devrun/gpu_bundle_head.tar.gz; odd head; save
R2="c:128:2x16384:: n:128:2x16384:: c:128:16x4096:: c:128:2x16384:--deterministic: c:64:2x8192:--deterministic:"
rows $W/head_1.json "$R2"; save; echo "head t t=$(el)"
unpack devrun/gpu_bundle_roles.tar.gz
rows $W/roles_1.json "$R2"; save; echo "roles t t=$(el)"
room 30 grid && bash tools/run_test_cases.sh --timeout 40 --only "every compiled specialisation" -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test 2>&1 | tee $W/roles_grid.txt
room 15 det && bash tools/run_test_cases.sh --timeout 20 --only "bit-exact over 50 runs" -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test 2>&1 | tee -a $W/roles_grid.txt
save
for det in "" --deterministic; do
  room 25 "racecheck $det" || continue
  line=$(timeout 40 compute-sanitizer --tool racecheck --error-exitcode 9 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size 128 --dtype bf16 --causal $det \
    --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|rror" | tr '\n' ' ')
  echo "roles racecheck bf16 d=128 causal 1x700x3 $det: $line rc=${PIPESTATUS[0]}"
done 2>&1 | tee $W/sanitizer.txt
save
room 70 "odd roles" && { odd roles; save; }
room 30 "head t2" && { unpack devrun/gpu_bundle_head.tar.gz; rows $W/head_2.json "$R2"; unpack devrun/gpu_bundle_roles.tar.gz; rows $W/roles_2.json "$R2"; save; }
show; echo "all t=$(el)"
