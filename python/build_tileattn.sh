#!/usr/bin/env bash
# Builds the C ABI library the Python package `tileattn` loads and puts it next to the package
# (python/tileattn/lib/, git-ignored), so that python/ on PYTHONPATH is all a user needs:
#
#   python/build_tileattn.sh          # libtileattn_cpu.so (CPU tensors, the interpreter)
#   python/build_tileattn.sh --gpu    # and libtileattn_gpu.so (CUDA tensors; for the GPU machine
#                                     # use tools/make_gpu_bundle.sh, which links it statically)
#
# Then: export PYTHONPATH=$PWD/python; /usr/bin/python3 -c "import tileattn; print(tileattn.__version__)"
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
targets=(//attention/capi:libtileattn_cpu.so)
case "${1:-}" in
  "") ;;
  --gpu) targets+=(//attention/capi:libtileattn_gpu.so) ;;
  *) echo "usage: $0 [--gpu]" >&2; exit 2 ;;
esac
bazel build "${targets[@]}"
mkdir -p python/tileattn/lib
for label in "${targets[@]}"; do
  lib="bazel-bin/attention/capi/${label##*:}"
  install -m 0755 "$lib" python/tileattn/lib/
done
PYTHONPATH="$PWD/python" /usr/bin/python3 -c "import tileattn, tileattn._library as l; l.library('cpu'); print('tileattn', tileattn.__version__, 'ready')"
echo "export PYTHONPATH=$PWD/python${PYTHONPATH:+:\$PYTHONPATH}"
