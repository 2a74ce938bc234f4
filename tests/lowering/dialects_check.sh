#!/bin/bash
# Checks the contract of the front half: after `tile-to-gpu` a kernel uses only the dialects
# the NVVM lowering consumes (no tensors, no tile or tilegpu ops).
#   dialects_check.sh TILE_OPT INPUT.mlir
set -euo pipefail
tile_opt=$1 input=$2
out=$("$tile_opt" "$input" --tile-to-gpu --mlir-print-op-generic)
bad=$(grep -oE '"[a-z_]+\.[a-z0-9_.]+"\(' <<<"$out" | tr -d '"(' | cut -d. -f1 | sort -u |
      grep -vxE 'arith|math|scf|cf|gpu|nvvm|nvgpu|llvm|vector|builtin' || true)
if [ -n "$bad" ]; then
  echo "FAIL: $(basename "$input") lowers to ops of dialects: $bad" >&2
  exit 1
fi
if grep -q 'tensor<' <<<"$out"; then
  echo "FAIL: $(basename "$input") still has tensor values" >&2
  exit 1
fi
echo "$(basename "$input"): only arith/math/scf/cf/gpu/nvvm/nvgpu/llvm/vector ops"
