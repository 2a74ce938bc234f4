#!/usr/bin/env bash
# Issue 17's GPU runs, from a gpu_bundle/ holding //distributed:qkvpacked_dist_check_gpu,
# //distributed:nccl_selftest and //bench:flash_attn (tools/make_gpu_bundle.sh). Sections 1 and 2
# ran on one H100 (distributed/RESULTS.md); section 3 needs several GPUs.
#   1. every mode on one GPU with virtual ranks, worlds 2, 4, 8 (d = 128, bf16, causal);
#   2. NCCL: all_to_all + split (nccl_selftest), and a torchrun-style launch done by hand —
#      N processes with RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT, the NCCL id over
#      the TCP rendezvous — for the check and the selftest;
#   3. with several GPUs: the benchmark's zigzag and usp at 8k tokens per GPU (the speed
#      target: >= 95% of ideal forward, >= 92% forward + backward).
# Full output goes to $LOG; stdout gets each command and its verdict line.
set -u
LOG="${LOG:-/tmp/issue17_modes.log}"
NGPU="${NGPU:-$(nvidia-smi -L 2>/dev/null | wc -l)}"
chk() {  # chk ARGS... : one check run, 180 s at most
  echo "\$ qkvpacked_dist_check_gpu $*" | tee -a "$LOG"
  local t0=$SECONDS
  timeout 180 gpu_bundle/run.sh //distributed:qkvpacked_dist_check_gpu "$@" >/tmp/run.out 2>&1
  local rc=$?
  cat /tmp/run.out >>"$LOG"
  echo "  exit $rc, $((SECONDS - t0)) s, max out diff $(grep -o 'non-distributed) diff: [0-9.e-]*' /tmp/run.out | awk '{print $3}' | sort -g | tail -1), max grad diff $(grep -o 'Rank\[[0-9]*\] max [0-9.e-]*' /tmp/run.out | awk '{print $3}' | sort -g | tail -1), last: $(tail -1 /tmp/run.out)"
}
# launched N BINARY ARGS...: N processes as torchrun would start them (one per GPU, this node).
launched() {
  local n=$1; shift
  local port=$((29500 + RANDOM % 1000))
  echo "\$ (torchrun-style, $n ranks) $*" | tee -a "$LOG"
  local pids=()
  for ((r = 0; r < n; r++)); do
    RANK=$r WORLD_SIZE=$n LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      timeout 180 gpu_bundle/run.sh "$@" >/tmp/rank$r.out 2>&1 &
    pids+=($!)
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  cat /tmp/rank*.out >>"$LOG"
  echo "  exit $rc, rank 0 last: $(tail -1 /tmp/rank0.out)"
  rm -f /tmp/rank*.out
}
common="--backend gpu --batch_size 1 --head_size 128 --dtype bf16 --causal"

# 1. Every mode, virtual ranks on one GPU.
for w in 8 4 2; do
  for m in ring zigzag stripe ulysses; do chk --virtual_ranks $w $common --mode $m --seq_len 4096 --nheads 8; done
  [ $w -ge 4 ] && chk --virtual_ranks $w $common --mode usp --ulysses_degree 2 --seq_len 4096 --nheads 8
done
chk --virtual_ranks 8 $common --mode usp --ulysses_degree 4 --ring_split stripe --seq_len 4096 --nheads 8 --nheads_k 2

# 2. NCCL: the built-in launcher, then torchrun-style launches.
n=$(( NGPU > 0 ? NGPU : 1 ))
echo "\$ nccl_selftest --nproc_per_node $n" | tee -a "$LOG"
timeout 180 gpu_bundle/run.sh //distributed:nccl_selftest --nproc_per_node $n 2>&1 | tee -a "$LOG" | tail -2
launched $n //distributed:nccl_selftest
launched $n //distributed:qkvpacked_dist_check_gpu --mode zigzag --batch_size 1 --seq_len 4096 --nheads 8 --head_size 128 --causal
[ $n -ge 2 ] && launched $n //distributed:qkvpacked_dist_check_gpu --mode usp --ulysses_degree 2 --batch_size 1 \
  --seq_len 4096 --nheads 8 --head_size 128 --causal

# 3. Speed with several GPUs: 8k tokens per GPU.
if [ $n -ge 2 ]; then
  for m in "zigzag" "usp --ulysses_degree $(( n >= 4 ? n / 2 : n ))"; do
    for f in --fwd_only ""; do
      echo "\$ flash_attn --nproc_per_node $n --mode $m --seq_len $((8192 * n)) --nheads 32 --head_size 128 --causal $f" | tee -a "$LOG"
      timeout 300 gpu_bundle/run.sh //bench:flash_attn --nproc_per_node $n --mode $m --batch_size 1 \
        --seq_len $((8192 * n)) --nheads 32 --head_size 128 --causal $f 2>&1 | tee -a "$LOG" | grep -E '^\||ideal|error'
    done
  done
fi
