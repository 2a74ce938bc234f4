#!/usr/bin/env bash
# Runs a lowering pass under valgrind: any invalid read/write (use-after-free) fails the test.
# Usage: valgrind_check.sh TILE_OPT PASS_FLAG INPUT.mlir
set -euo pipefail
command -v valgrind >/dev/null || { echo "valgrind is required (setup.sh installs it)" >&2; exit 1; }
valgrind -q --error-exitcode=9 "$1" "$2" "$3" >/dev/null
echo "no memory errors in $2 on $(basename "$3")"
