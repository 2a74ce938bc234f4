#!/usr/bin/env bash
# Builds one copy of //bench/tune:tune and //tests:accuracy_gpu per candidate block shape for
# head_dim 128, for timing them side by side on the GPU machine (bench/tune/run_variants.sh).
# The compiled table holds one shape per head_dim, so each candidate is its own build: the d=128
# row of kernel_table.h and kernel_instances.bzl (and the forward's pipeline depth in fwd.cc) is
# rewritten, built with the GPU bundle's link flags, copied, and the files are restored after.
#
# The outputs (tune_bins/, tune_bins.tar.xz) are git-ignored.
# Usage: bench/tune/build_variants.sh TAG:FWD_M,FWD_N,FWD_W:BWD_M,BWD_N,BWD_W:STAGES ...
# Output: tune_bins.tar.xz holding tune_bins/<TAG>/{tune,accuracy_gpu}.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
readonly TABLE=attention/kernels/kernel_table.h BZL=attention/gpu/kernel_instances.bzl
readonly FWD=attention/kernels/fwd.cc OUT=tune_bins
backup=$(mktemp -d)
cp "$TABLE" "$BZL" "$FWD" "$backup/"
restore() { cp "$backup/$(basename $TABLE)" "$TABLE"; cp "$backup/$(basename $BZL)" "$BZL"; cp "$backup/$(basename $FWD)" "$FWD"; }
trap restore EXIT INT TERM

# Same static linking as tools/make_gpu_bundle.sh, so the binaries run on the GPU machine and the
# build reuses that configuration's cache.
static_dir="$(bazel info output_base 2>/dev/null)/static_libstdcxx"
mkdir -p "$static_dir"
ln -sf "$(gcc -print-file-name=libstdc++.a)" "$static_dir/libstdc++.a"

rm -rf "$OUT"
for spec in "$@"; do
  IFS=: read -r tag fwd bwd stages <<<"$spec"
  restore
  sed -i "s|^\( *\){128, {[0-9, ]*}, {[0-9, ]*}},|\1{128, {${fwd//,/, }}, {${bwd//,/, }}},|" "$TABLE"
  sed -i "s|^\( *\)128: (([0-9, ]*), ([0-9, ]*)),|\1128: ((${fwd//,/, }), (${bwd//,/, })),|" "$BZL"
  sed -i "s|/\*stages=\*/[0-9]*)|/*stages=*/${stages})|" "$FWD"
  grep -q "{128, {${fwd//,/, }}" "$TABLE" && grep -q "128: ((${fwd//,/, })" "$BZL" ||
    { echo "build_variants: could not rewrite the d=128 row for $spec" >&2; exit 1; }
  echo "build_variants: $tag fwd=$fwd bwd=$bwd stages=$stages"
  bazel build --noshow_progress --dynamic_mode=off --linkopt=-static-libstdc++ \
    --linkopt=-static-libgcc "--linkopt=-L$static_dir" //bench/tune:tune //tests:accuracy_gpu
  mkdir -p "$OUT/$tag"
  cp bazel-bin/bench/tune/tune bazel-bin/tests/accuracy_gpu "$OUT/$tag/"
  chmod u+w "$OUT/$tag"/*
  strip "$OUT/$tag"/*
  echo "fwd=$fwd bwd=$bwd stages=$stages" >"$OUT/$tag/SHAPE"
done
restore
tar -cJf tune_bins.tar.xz "$OUT"
ls -la tune_bins.tar.xz
