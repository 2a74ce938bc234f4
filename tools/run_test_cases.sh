#!/bin/bash
# Runs every test case of a Catch2 binary on its own, each under its own time limit, so a slow
# or hanging case costs only its own limit and the others still report (a GPU suite that has
# outgrown one call's budget, say). Prints one line per case: PASS / FAIL / TIMEOUT, seconds,
# the case's assertion summary; with --log DIR each case's whole output goes to DIR/NN.txt.
# Exit status: 0 when every case passed, 1 otherwise, 2 on bad flags.
#
# Usage: tools/run_test_cases.sh [--timeout S] [--log DIR] [--only SUBSTRING] -- COMMAND...
#   e.g. tools/run_test_cases.sh --timeout 120 --log $OUT/suite -- gpu_bundle/run.sh //tests/gpu:attention_gpu_test
set -u
limit=120 log="" only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) limit=${2:-}; shift 2 ;;
    --log) log=${2:-}; shift 2 ;;
    --only) only=${2:-}; shift 2 ;;
    --) shift; break ;;
    *) echo "run_test_cases: unknown flag '$1' (expected --timeout S, --log DIR, --only SUBSTRING, then -- COMMAND...)" >&2; exit 2 ;;
  esac
done
if ! [[ "$limit" =~ ^[1-9][0-9]*$ ]]; then echo "run_test_cases: --timeout: expected whole seconds, got '$limit'" >&2; exit 2; fi
if [ $# -eq 0 ]; then echo "run_test_cases: no command after --" >&2; exit 2; fi
[ -n "$log" ] && mkdir -p "$log"
mapfile -t names < <("$@" --list-test-names-only 2>/dev/null | sed -e 's/[[:space:]]*$//' -e '/^$/d')
if [ ${#names[@]} -eq 0 ]; then echo "run_test_cases: '$*' listed no test cases" >&2; exit 1; fi
failed=0 n=0
for name in "${names[@]}"; do
  [ -n "$only" ] && [[ "$name" != *"$only"* ]] && continue
  n=$((n + 1))
  # Catch2's test spec: a comma separates specs and brackets start tags; escape both.
  spec=$(printf '%s' "$name" | sed -e 's/\\/\\\\/g' -e 's/,/\\,/g' -e 's/\[/\\[/g')
  out=$(mktemp); t0=$SECONDS
  timeout "$limit" "$@" "$spec" > "$out" 2>&1; rc=$?
  secs=$((SECONDS - t0))
  summary=$(grep -E '^(All tests passed|test cases:)' "$out" | tail -1)
  if [ $rc -eq 124 ] || grep -q 'SIGTERM' "$out"; then status=TIMEOUT; failed=1
  elif [ $rc -ne 0 ]; then status=FAIL; failed=1
  else status=PASS; fi
  printf '%-7s %4ds  %s  (%s)\n' "$status" "$secs" "$name" "${summary:-no summary}"
  [ -n "$log" ] && cp "$out" "$log/$(printf '%02d' $n).txt"
  rm -f "$out"
done
exit $failed
