#!/usr/bin/env bash
# Builds the C ABI library the Python package `tileattn` loads, and its C extension (the fast
# path for torch tensors), and puts them next to the package (python/tileattn/lib/, git-ignored),
# so that python/ on PYTHONPATH is all a user needs:
#
#   python/build_tileattn.sh          # libtileattn_cpu.so (CPU tensors, the interpreter), _fastpath.abi3.so
#   python/build_tileattn.sh --gpu    # and libtileattn_gpu.so (CUDA tensors; for the GPU machine
#                                     # use tools/make_gpu_bundle.sh, which links it statically)
#
# Then: export PYTHONPATH=$PWD/python; /usr/bin/python3 -c "import tileattn; print(tileattn.__version__)"
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
# The C extension (the fast path for torch tensors) serves both libraries.
targets=(//attention/capi:libtileattn_cpu.so //python:tileattn/lib/_fastpath.abi3.so)
case "${1:-}" in
  "") ;;
  --gpu) targets+=(//attention/capi:libtileattn_gpu.so) ;;
  *) echo "usage: $0 [--gpu]" >&2; exit 2 ;;
esac
bazel build "${targets[@]}"
mkdir -p python/tileattn/lib
for label in "${targets[@]}"; do
  path="${label#//}"
  install -m 0755 "bazel-bin/${path/://}" python/tileattn/lib/
done
PYTHONPATH="$PWD/python" /usr/bin/python3 -c "import tileattn, tileattn._fast as f; assert f.available('cpu'); print('tileattn', tileattn.__version__, 'ready (fast path on)')"
echo "export PYTHONPATH=$PWD/python${PYTHONPATH:+:\$PYTHONPATH}"
