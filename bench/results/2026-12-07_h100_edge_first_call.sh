#!/usr/bin/env bash
# handover bundle: sanitizers (bwd d=128), forward A/B with the edge-first overrides, backward vs roles bundle, SDPA same call.
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
LIMIT=${LIMIT:-420}
el() { echo $(( $(date +%s) - s )); }
room() { [ $(( $(date +%s) - s + $1 )) -le $LIMIT ] || { echo "skip: $2 (t=$(el))"; return 1; }; }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
source devrun/rows.sh
OV=$PWD/kernel_overrides/fwd_edge
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
unpack devrun/gpu_bundle_handover.tar.gz
for job in "racecheck 128 " "racecheck 128 --deterministic" "memcheck 128 " "synccheck 128 "; do
  read tool d det <<< "$job"
  room 25 "$job" || continue
  line=$(timeout 40 compute-sanitizer --tool $tool --error-exitcode 9 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size $d --dtype bf16 --causal $det \
    --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard" | tr '\n' ' ')
  echo "handover $tool bf16 d=$d causal 1x700x3 $det: $line (t=$(el))"
done 2>&1 | tee $W/sanitizer.txt
save; echo "san t=$(el)"
# Forward: edge-first overrides against the bundle's built-in forward; backward rows; SDPA; second round.
RF="c:128:2x4096::--fwd_only c:128:16x4096::--fwd_only c:128:2x16384::--fwd_only n:128:2x4096::--fwd_only n:128:16x4096::--fwd_only n:128:2x16384::--fwd_only c:64:2x8192::--fwd_only n:64:2x8192::--fwd_only c:256:2x8192::--fwd_only"
R3="c:128:2x16384:: n:128:2x16384:: c:128:16x4096:: c:128:2x16384:--deterministic: c:64:2x8192:--deterministic: c:64:2x8192:: n:64:2x8192::"
rows $W/fbase_1.json "$RF"; rows $W/fedge_1.json "$RF" $OV; save; echo "fwd1 t=$(el)"
room 150 bwdrows && { rows $W/handover_1.json "$R3"; save; echo "bwd t=$(el)"; }
room 80 sdpa && { python3 bench/merge_results.py $W/all.json $W/fbase_1.json $W/handover_1.json; python3 bench/compare_sdpa.py --ours $W/all.json --warmup 3 --iters 20 --json $W/sdpa.json > $W/table_all.txt 2>&1; echo "sdpa t=$(el)"; }
save
room 60 fwd2 && { rows $W/fbase_2.json "$RF"; rows $W/fedge_2.json "$RF" $OV; save; echo "fwd2 t=$(el)"; }
room 70 odd && { timeout 60 env TILE_KERNEL_OVERRIDE_DIR=$OV gpu_bundle/run.sh //tests/gpu:attention_gpu_test 'long\, odd and ragged shapes' > $W/odd_edge.txt 2>&1; echo "odd edge rc=$? t=$(el)"; tail -3 $W/odd_edge.txt; save; }
room 70 roles && { unpack devrun/gpu_bundle_roles.tar.gz; rows $W/roles_1.json "$R3"; save; echo "roles t=$(el)"; }
for f in fbase_1 fedge_1 fbase_2 fedge_2 handover_1 roles_1; do [ -f $W/$f.json ] && [ -f $W/sdpa.json ] && python3 bench/compare_sdpa.py --ours $W/$f.json --sdpa $W/sdpa.json > $W/table_$f.txt 2>&1; done
save; show; echo "end t=$(el)"
