#!/usr/bin/env bash
# The GPU runs at the seed's shapes (B=1, d=128, bf16), from a gpu_bundle/ holding
# //distributed:qkvpacked_dist_check_gpu and //bench:flash_attn. Full output of every run goes to
# $LOG; stdout gets each command and its verdict line (and the headline run's per-rank lines),
# most important runs first so a cut-short call still answers them.
set -u
LOG="${LOG:-/tmp/seed_shapes.log}"
OUTDIR="${OUTDIR:-/tmp}"
chk() {  # chk ARGS... : one check run, 120 s at most
  echo "\$ qkvpacked_dist_check_gpu $*" | tee -a "$LOG"
  local t0=$SECONDS
  timeout 120 gpu_bundle/run.sh //distributed:qkvpacked_dist_check_gpu "$@" >/tmp/run.out 2>&1
  local rc=$?
  cat /tmp/run.out >>"$LOG"
  echo "  exit $rc, $((SECONDS - t0)) s, max out diff $(grep -o 'non-distributed) diff: [0-9.e-]*' /tmp/run.out | awk '{print $3}' | sort -g | tail -1), max grad diff $(grep -o 'Rank\[[0-9]*\] max [0-9.e-]*' /tmp/run.out | awk '{print $3}' | sort -g | tail -1), last: $(tail -1 /tmp/run.out)"
}
common="--backend gpu --batch_size 1 --head_size 128 --dtype bf16"

# Headline: world 8 zigzag causal (5 heads: the fp64 reference on the host dominates each run), the seed's per-rank lines in full.
chk --virtual_ranks 8 $common --mode zigzag --causal --seq_len 4096 --nheads 5
grep -E '^(rank|dq|dk|dv|Rank|non-distributed|PASS|FAIL)' /tmp/run.out | head -60
# World 3 at 3816 (the seed's odd world).
for m in ring zigzag; do for c in "" --causal; do chk --virtual_ranks 3 $common --mode $m $c --seq_len 3816 --nheads 5; done; done
# NCCL, one process.
chk --nproc_per_node 1 $common --mode zigzag --causal --seq_len 4096 --nheads 5
# The distributed benchmark, one rank.
echo "\$ flash_attn --nproc_per_node 1 --mode zigzag --batch_size 1 --seq_len 4096 --nheads 16 --head_size 128 --causal --profile"
timeout 120 gpu_bundle/run.sh //bench:flash_attn --nproc_per_node 1 --mode zigzag --batch_size 1 --seq_len 4096 \
  --nheads 16 --head_size 128 --causal --profile --out_dir "$OUTDIR" 2>&1 | tee -a "$LOG" | grep -v '^case '
echo "  exit ${PIPESTATUS[0]}"
# The rest of the grid.
for w in 8 4 2; do for m in ring zigzag; do for c in "" --causal; do
  [ "$w$m$c" = "8zigzag--causal" ] && continue
  chk --virtual_ranks $w $common --mode $m $c --seq_len 4096 --nheads 5; done; done; done
for w in 2 4; do for m in ring zigzag; do for c in "" --causal; do
  chk --virtual_ranks $w $common --mode $m $c --seq_len 3816 --nheads 5; done; done; done
