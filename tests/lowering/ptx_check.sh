#!/bin/bash
# Lowers a tile kernel to PTX, assembles it with ptxas for sm_90a and checks that there are at
# least as many tensor-core MMA instructions as tile.dot ops in the input (PTX text, where each
# mma.sync in a loop body appears once).
#   ptx_check.sh LOWER_TO_PTX PTXAS KERNEL.mlir
set -euo pipefail
lower=$1 ptxas=$2 input=$3
ptx="${TEST_TMPDIR:-/tmp}/$(basename "$input" .mlir).ptx"
"$lower" "$input" "$ptx"
"$ptxas" -arch=sm_90a -v "$ptx" -o "${ptx%.ptx}.cubin" 2>&1 | sed 's/^/  /'
dots=$(grep -c 'tile.dot' "$input" || true)
mmas=$(grep -cE 'mma\.sync\.aligned\.m16n8k16|wgmma\.mma_async' "$ptx" || true)
echo "$(basename "$input"): tile.dot ops: $dots, tensor-core mma instructions: $mmas"
if [ "$mmas" -lt "$dots" ]; then
  echo "FAIL: fewer tensor-core instructions than dot ops" >&2
  exit 1
fi
