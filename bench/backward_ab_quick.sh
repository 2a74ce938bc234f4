# A short forward+backward A/B for a device call with little time left (bench/hopper_backward.sh
# --ab is the full one): four rows with the built-in kernels, then with the cubins of each
# override folder given (TILE_KERNEL_OVERRIDE_DIR), deterministic on two rows, SDPA on the four.
# Results under /tmp/w, tarred into $OUT/results.tgz after every phase.
# Usage (on the GPU machine, bundle unpacked): bash bench/backward_ab_quick.sh [OVERRIDE_DIR...]
set -u
W=/tmp/w; mkdir -p $W; R=gpu_bundle/run.sh
save() { tar czf $OUT/results.tgz -C $W . ; }
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $W/card.txt
ROWS=${ROWS:-"c:128:2x4096 c:128:2x16384 n:128:2x16384 c:64:2x8192"}  # or the caller's
rows() {  # $1: output JSON; $2: extra flag
  local parts=() r m d bs b s f causal
  for r in $ROWS; do
    m=${r%%:*} r=${r#*:} d=${r%%:*} bs=${r#*:} b=${bs%x*} s=${bs#*x}; causal=""; [ $m = c ] && causal=--causal
    f="$W/p_d${d}_${b}x${s}${causal}.json"
    timeout 40 $R //bench:flash_attn --func flash_attn_func --batch_size $b --seq_len $s --nheads 16 --head_size $d \
      --dtype bf16 $causal ${2:-} --warmup 3 --iters 20 --json "$f" 2>&1 | grep -E "ms\/iter|backward alone [0-9]" | tr "\n" " "; echo
    parts+=("$f")
  done
  python3 bench/merge_results.py "$1" "${parts[@]}"; rm -f "${parts[@]}"
}
echo "== built-in"; rows $W/ours.json; save
for dir in "$@"; do n=$(basename $dir); echo "== $n"
  TILE_KERNEL_OVERRIDE_DIR=$(realpath $dir) rows $W/ours_$n.json; save
done
echo "== deterministic"; ROWS="c:128:2x16384 n:128:2x16384" rows $W/det.json --deterministic; save
python3 bench/compare_sdpa.py --ours $W/ours.json --warmup 3 --iters 20 --json $W/sdpa.json 2>&1 | tail -8 | tee $W/table.txt; save
