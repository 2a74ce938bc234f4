#!/usr/bin/env bash
# d64 bundle (HEAD: rows by loads + shared stores, edge-first forward, d=64 backward 64x128 with roles):
# sanitizers (full racecheck report); rows against the sync bundle (d=64 backward at 128x128 without roles);
# SDPA same call; three GPU suite cases; registered variants through Ulysses / USP (virtual ranks).
set -u
cd "$(dirname "$0")/.."
s=$(date +%s); W=/tmp/w; rm -rf $W; mkdir -p $W
LIMIT=${LIMIT:-540}
el() { echo $(( $(date +%s) - s )); }
room() { [ $(( $(date +%s) - s + $1 )) -le $LIMIT ] || { echo "skip: $2 (t=$(el))"; return 1; }; }
save() { tar czf $OUT/results.tgz -C $W . ; }
unpack() { rm -rf gpu_bundle && tar xzf "$1"; }
source devrun/rows.sh
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee $W/card.txt
unpack devrun/gpu_bundle_d64.tar.gz
for job in "racecheck 128 " "racecheck 128 --deterministic" "racecheck 64 " "racecheck 64 --deterministic" "memcheck 128 " "synccheck 128 " "memcheck 64 --deterministic" "synccheck 64 --deterministic" "memcheck 64 " "synccheck 64 "; do
  read tool d det <<< "$job"
  room 25 "$job" || continue
  line=$(timeout 40 compute-sanitizer --tool $tool --error-exitcode 9 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size $d --dtype bf16 --causal $det \
    --warmup 0 --iters 1 2>&1 | grep -E "ERROR SUMMARY|RACECHECK SUMMARY" | tr '\n' ' ')
  echo "d64bundle $tool bf16 d=$d causal 1x700x3 $det: $line (t=$(el))"
done 2>&1 | tee $W/sanitizer.txt
save; echo "san t=$(el)"
# the hazards in full, and the SASS they point into (the same generator's cubins, carried)
timeout 60 compute-sanitizer --tool racecheck --racecheck-report hazard --print-limit 40 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size 128 --dtype bf16 --causal --deterministic \
    --warmup 0 --iters 1 > $W/racecheck_d128_det.txt 2>&1
timeout 60 compute-sanitizer --tool racecheck --racecheck-report hazard --print-limit 40 gpu_bundle/run.sh //bench:flash_attn \
    --func flash_attn_func --batch_size 1 --seq_len 700 --nheads 3 --head_size 64 --dtype bf16 --causal --deterministic \
    --warmup 0 --iters 1 > $W/racecheck_d64_det.txt 2>&1
CO=$(command -v cuobjdump || ls /usr/local/cuda*/bin/cuobjdump 2>/dev/null | head -1)
for c in devrun/cubins/*.cubin; do [ -n "$CO" ] && $CO -sass $c > $W/$(basename $c .cubin).sass 2>&1; done
head -60 $W/racecheck_d128_det.txt; save; echo "report t=$(el)"
RF="c:128:2x4096::--fwd_only c:128:16x4096::--fwd_only c:128:2x16384::--fwd_only n:128:2x16384::--fwd_only c:64:2x8192::--fwd_only n:64:2x8192::--fwd_only c:256:2x8192::--fwd_only"
R3="c:128:2x16384:: n:128:2x16384:: c:128:16x4096:: c:128:2x16384:--deterministic: c:64:2x8192:: n:64:2x8192:: c:64:2x8192:--deterministic: n:64:2x8192:--deterministic: c:64:16x4096:: n:64:2x16384::"
R64="c:64:2x8192:: n:64:2x8192:: c:64:2x8192:--deterministic: n:64:2x8192:--deterministic: c:64:16x4096:: n:64:2x16384::"
R128="c:128:2x16384:: n:128:2x16384:: c:128:16x4096:: c:128:2x16384:--deterministic:"
rows $W/d64_b.json "$R3"; rows $W/d64_f.json "$RF"; save; echo "d64 rows t=$(el)"
unpack devrun/sync_bench.tar.gz; rows $W/sync_b.json "$R64"; save; echo "sync rows t=$(el)"
unpack devrun/gpu_bundle_d64.tar.gz
room 60 sdpa && { python3 bench/merge_results.py $W/all.json $W/d64_f.json $W/d64_b.json; python3 bench/compare_sdpa.py --ours $W/all.json --warmup 3 --iters 20 --json $W/sdpa.json > $W/table_d64.txt 2>&1
  python3 bench/merge_results.py $W/alls.json $W/sync_b.json; python3 bench/compare_sdpa.py --ours $W/alls.json --sdpa $W/sdpa.json > $W/table_sync.txt 2>&1; echo "sdpa t=$(el)"; }
unpack devrun/sync_bench.tar.gz; rows $W/sync2_b.json "$R64"; unpack devrun/gpu_bundle_d64.tar.gz; rows $W/d642_b.json "$R64"; save; echo "round 2 t=$(el)"
save; show
for c in "every compiled specialisation" "every head dim" "bit-exact over 50"; do
  room 100 "$c" && timeout 100 bash tools/run_test_cases.sh --timeout 100 --only "$c" --log $W/suite_${c// /_} -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test 2>&1 | tee -a $W/suite.txt
done
unpack devrun/gpu_bundle_dist.tar.gz
chk() {
  room 40 "$*" || return
  echo "\$ qkvpacked_dist_check_gpu $*" >> $W/dist.txt
  timeout 60 gpu_bundle/run.sh //distributed:qkvpacked_dist_check_gpu --backend gpu --batch_size 1 --head_size 128 --dtype bf16 "$@" > /tmp/run.out 2>&1
  echo "  exit $?" >> $W/dist.txt; cat /tmp/run.out >> $W/dist.txt
  echo "$* -> exit $(tail -1 /tmp/run.out) (t=$(el))"
}
for v in document_mask prefix_lm sliding_window_sinks alibi rel_pos_bias head_temperature alibi+document_mask; do
  chk --virtual_ranks 4 --mode ulysses --seq_len 2048 --nheads 8 --causal --variant $v
done
chk --virtual_ranks 4 --mode usp --ulysses_degree 2 --seq_len 2048 --nheads 8 --causal --variant head_temperature
chk --virtual_ranks 8 --mode ring --seq_len 4096 --nheads 8 --causal --variant head_temperature
chk --virtual_ranks 8 --mode ulysses --seq_len 4096 --nheads 8 --nheads_k 2 --causal --variant rel_pos_bias
save; echo "dist t=$(el)"
save; echo "end t=$(el)"
