#!/usr/bin/env bash
# The //bench:flash_attn binary without a GPU: --help (exit 0, the TFLOPS formula), bad flags
# (exit 2, the flag named, nothing run; the distributed flags too), and the no-GPU message (exit 1).
set -uo pipefail
bin="$1"
fails=0
check() {  # check NAME EXPECTED_RC PATTERN -- args...
  local name="$1" want_rc="$2" pattern="$3"
  shift 4
  local out rc
  out=$("$bin" "$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $rc (want $want_rc), output:"
    echo "$out"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

check help 0 'TFLOPS = 2\*B\*S\^2\*H\*\(D\+DV\) \(= 4\*B\*S\^2\*H\*D\), x0\.5 when causal, x3\.5 for forward\+backward' -- --help
check unknown_flag 2 '^flash_attn: error: --seq_lne: unknown flag' -- --seq_lne 4096
check bad_value 2 '^flash_attn: error: --seq_len: expected an integer' -- --seq_len four
check missing_value 2 '^flash_attn: error: --iters: missing value' -- --causal --iters
check bad_dtype 2 '^flash_attn: error: --dtype: expected bf16 or fp16' -- --dtype fp8
check bad_sweep 2 '^flash_attn: error: --sweep: expected .seed.' -- --sweep big
check sweep_conflict 2 '^flash_attn: error: --seq_len: not allowed with --sweep seed' -- --sweep seed --seq_len 8
check packed_gqa 2 '^flash_attn: error: --nheads_k:' -- --nheads 16 --nheads_k 4
check mode_needs_nproc 2 '^flash_attn: error: --mode: needs --nproc_per_node' -- --mode ring
check bad_mode 2 '^flash_attn: error: --mode: expected ring or zigzag' -- --nproc_per_node 1 --mode star
check zigzag_split 2 '^flash_attn: error: --seq_len: 4094 does not divide into 4 chunks' -- --nproc_per_node 2 --mode zigzag --seq_len 4094
check nproc_sweep 2 '^flash_attn: error: --sweep: not allowed with --nproc_per_node' -- --nproc_per_node 1 --sweep seed
check help_dist 0 '--mode ring\|zigzag' -- --help
check virtual_needs_mode 2 '^flash_attn: error: --virtual_ranks: needs --mode' -- --virtual_ranks 2
check help_virtual 0 '--virtual_ranks N' -- --help
check bool_value 2 '^flash_attn: error: --fwd_only: takes no value' -- --fwd_only=True

# Without a GPU: exactly one line on stderr, exit 1. (Skipped where a GPU is present.)
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
  echo "skip no_gpu (this machine has an NVIDIA device)"
else
  err=$("$bin" --seq_len 128 --fwd_only 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" != 1 ] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ] || ! grep -q '^flash_attn: no GPU: this benchmark needs an NVIDIA GPU' <<<"$err"; then
    echo "FAIL no_gpu: exit $rc, stderr:"
    echo "$err"
    fails=$((fails + 1))
  else
    echo "ok   no_gpu: $err"
  fi
  # The distributed mode counts GPUs in a child process and says the same.
  check no_gpu_dist 1 '^flash_attn: no GPU: this benchmark needs an NVIDIA GPU' -- --nproc_per_node 1 --mode zigzag --seq_len 128
  check no_gpu_virtual 1 '^flash_attn: no GPU: this benchmark needs an NVIDIA GPU' -- --virtual_ranks 2 --mode ring --seq_len 128
fi
exit $((fails > 0))
