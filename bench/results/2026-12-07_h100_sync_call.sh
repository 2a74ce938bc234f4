#!/usr/bin/env bash
# sync bundle (rows by loads + shared stores, plain arrive; edge-first forward): racecheck/memcheck/synccheck,
# timings against the handover bundle, SDPA same call, the GPU suite case by case.
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
LIMIT=${LIMIT:-150}
el() { echo $(( $(date +%s) - s )); }
room() { [ $(( $(date +%s) - s + $1 )) -le $LIMIT ] || { echo "skip: $2 (t=$(el))"; return 1; }; }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
source devrun/rows.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
unpack devrun/gpu_bundle_sync.tar.gz
for job in "racecheck 128 " "racecheck 128 --deterministic" "racecheck 64 --deterministic" "memcheck 128 " "synccheck 128 " "memcheck 128 --deterministic" "synccheck 128 --deterministic" "racecheck 64 --fwd_only" "racecheck 128 --fwd_only" "racecheck 256 --fwd_only" "memcheck 256 --fwd_only" "synccheck 256 --fwd_only"; do
  read tool d det <<< "$job"
  for dt in bf16; do
  room 25 "$job" || continue
  line=$(timeout 40 compute-sanitizer --tool $tool --error-exitcode 9 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size $d --dtype $dt --causal $det \
    --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY" | tr '\n' ' ')
  echo "sync $tool $dt d=$d causal 1x700x3 $det: $line (t=$(el))"
  done
done 2>&1 | tee $W/sanitizer.txt
save; echo "san t=$(el)"
RF="c:128:2x4096::--fwd_only c:128:16x4096::--fwd_only c:128:2x16384::--fwd_only n:128:2x4096::--fwd_only n:128:16x4096::--fwd_only n:128:2x16384::--fwd_only c:64:2x8192::--fwd_only n:64:2x8192::--fwd_only c:256:2x8192::--fwd_only"
R3="c:128:2x16384:: n:128:2x16384:: c:128:16x4096:: c:128:2x16384:--deterministic: c:64:2x8192:--deterministic: c:64:2x8192:: n:64:2x8192::"
rows $W/sync_b.json "$R3"; rows $W/sync_f.json "$RF"; save; echo "sync rows t=$(el)"
unpack devrun/gpu_bundle_sync.tar.gz
room 60 sdpa && { python3 bench/merge_results.py $W/all.json $W/sync_f.json $W/sync_b.json; python3 bench/compare_sdpa.py --ours $W/all.json --warmup 3 --iters 20 --json $W/sdpa.json > $W/table_sync.txt 2>&1
  [ -f $W/handover_b.json ] && { python3 bench/merge_results.py $W/allh.json $W/handover_f.json $W/handover_b.json; python3 bench/compare_sdpa.py --ours $W/allh.json --sdpa $W/sdpa.json > $W/table_handover.txt 2>&1; }; echo "sdpa t=$(el)"; }
unpack devrun/gpu_bundle_handover.tar.gz
room 60 handover && { rows $W/handover_b.json "$R3"; rows $W/handover_f.json "$RF"; save; echo "handover rows t=$(el)"; }
[ -f $W/handover_b.json ] && [ -f $W/sdpa.json ] && { python3 bench/merge_results.py $W/allh.json $W/handover_f.json $W/handover_b.json; python3 bench/compare_sdpa.py --ours $W/allh.json --sdpa $W/sdpa.json > $W/table_handover.txt 2>&1; }
save; show
left=$(( LIMIT - $(date +%s) + s - 5 )); echo "suite budget ${left}s"
[ $left -gt 40 ] && unpack devrun/gpu_bundle_sync.tar.gz && timeout $left bash tools/run_test_cases.sh --timeout 100 --log $W/suite -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test 2>&1 | tee $W/suite.txt
save; echo "end t=$(el)"
