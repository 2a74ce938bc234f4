#!/usr/bin/env bash
# Part 1: validation of the head bundle (whole GPU suite), SASS of a few cubins, accuracy of the
# backward with warp roles (override cubins in kernel_overrides/ws), one timing round
# head / head+ws / pre-scale-d bundle. Part 2 (call11.sh): sanitizer, round 2, SDPA.
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
LIMIT=${LIMIT:-570}
el() { echo $(( $(date +%s) - s )); }
room() { [ $(( $(date +%s) - s + $1 )) -le $LIMIT ] || { echo "skip: $2 (t=$(el))"; return 1; }; }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
unpack devrun/gpu_bundle_head.tar.gz
{ which cuobjdump nvdisasm; for c in kernel_overrides/sass/*.cubin; do n=$(basename $c .cubin); (cuobjdump -sass $c || /usr/local/cuda/bin/cuobjdump -sass $c) > $W/sass_${n:0:60}.txt 2>&1; done; ls -la $W; } 2>&1 | tail -8
bash tools/run_test_cases.sh --timeout 100 -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test 2>&1 | tee $W/suite.txt | tail -30
echo "suite t=$(el)"; save
WS=$(realpath kernel_overrides/ws)
room 80 ws_acc && TILE_KERNEL_OVERRIDE_DIR=$WS timeout 90 gpu_bundle/run.sh //tests/gpu:attention_gpu_test "every head dim at flash-attn's seqlen pairs" 2>&1 | tail -3 | tee $W/ws_accuracy.txt
echo "wsacc t=$(el)"; save
source devrun/rows.sh
for r in 1; do
  room 60 "head $r" && { unpack devrun/gpu_bundle_head.tar.gz; rows $W/head_$r.json "$R"; save; echo "head $r t=$(el)"; }
  room 60 "ws $r" && { rows $W/ws_$r.json "$R" $WS; save; echo "ws $r t=$(el)"; }
  room 60 "new $r" && { unpack devrun/gpu_bundle_new.tar.gz; rows $W/new_$r.json "$R"; save; echo "new $r t=$(el)"; }
done
unpack devrun/gpu_bundle_head.tar.gz
if room 50 sdpa; then
  python3 bench/compare_sdpa.py --ours $W/head_1.json --warmup 3 --iters 20 --json $W/sdpa.json > $W/table_head_1.txt 2>&1
  for f in $W/ws_1.json $W/new_1.json; do [ -f $f ] && python3 bench/compare_sdpa.py --ours $f --sdpa $W/sdpa.json > $W/table_$(basename $f .json).txt 2>&1; done
  save
fi
for tool in racecheck memcheck; do
  room 25 "$tool ws" || continue
  line=$(timeout 40 env TILE_KERNEL_OVERRIDE_DIR=$WS compute-sanitizer --tool $tool --error-exitcode 9 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size 128 --dtype bf16 --causal \
    --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|rror" | tr '\n' ' ')
  echo "ws $tool bf16 d=128 causal 1x700x3: $line rc=${PIPESTATUS[0]}"
done 2>&1 | tee $W/sanitizer.txt
save
show
echo "all t=$(el)"
