#!/bin/bash
# Golden IR test: runs tile-opt with the given flags on a .mlir file and checks the output
# against the file's CHECK lines.
#   filecheck_test.sh TILE_OPT FILECHECK INPUT.mlir [tile-opt flags...]
set -euo pipefail
tile_opt=$1 filecheck=$2 input=$3
shift 3
"$tile_opt" "$input" "$@" | "$filecheck" "$input"
