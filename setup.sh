#!/usr/bin/env bash
# Prepares a Debian 12 machine to build and test the project. Idempotent: installs only the
# packages that are missing, and does nothing when everything is present.
set -euo pipefail

# python3-*: the Python package `tileattn` and its tests run on Debian's /usr/bin/python3 (the only
# interpreter that sees these), python3-dev has the headers of its C extension;
# libdlpack-dev: the DLPack header of the C ABI (attention/capi).
PACKAGES=(bazel-bootstrap catch2 libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools libzstd-dev zlib1g-dev valgrind
          python3-numpy python3-torch python3-pytest python3-dev libdlpack-dev)

# The CUDA toolkit is not a Debian package: it must already be at /usr/local/cuda.
missing_cuda=()
for f in /usr/local/cuda/bin/ptxas /usr/local/cuda/include/cuda.h; do
  [[ -e "$f" ]] || missing_cuda+=("$f")
done
if (( ${#missing_cuda[@]} )); then
  echo "setup.sh: the CUDA 13 toolkit is required at /usr/local/cuda; missing: ${missing_cuda[*]}" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then
  echo "setup.sh: all packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: missing packages (${missing[*]}) and not root, no sudo to install them" >&2
  exit 1
fi
echo "setup.sh: installing ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
