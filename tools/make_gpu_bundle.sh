#!/usr/bin/env bash
# Builds the GPU-side binaries and copies them, with their runfiles, into gpu_bundle/ (git-ignored)
# for the GPU machine, which has no Bazel and no MLIR. On that machine:
#   gpu_bundle/run.sh //tests/runtime:runtime_gpu_test [flags as for bazel run]
#
# Usage: tools/make_gpu_bundle.sh [//pkg:target ...]
#   Without arguments: every cc_binary/cc_test tagged "gpu", plus the labels listed one per
#   line in tools/gpu_bundle_targets.txt (if present; '#' starts a comment).
#   Naming //attention/capi:libtileattn_gpu.so (the C ABI's GPU library) also bundles the Python
#   package tileattn with it under gpu_bundle/python/, with its GPU tests and benchmark.
#
# Binaries are linked with -static-libstdc++ -static-libgcc and --dynamic_mode=off: built here
# (Debian 12, glibc 2.36) they then need only glibc on the GPU machine (Ubuntu 24.04). libcuda is
# loaded with dlopen at run time; MLIR must not be linked in (checked below).
set -euo pipefail

cd "$(git rev-parse --show-toplevel)"
readonly BUNDLE=gpu_bundle
readonly WORKSPACE_NAME=tileattn
readonly MAX_BYTES=$((60 * 1024 * 1024))  # the device machine takes 64 MiB per call in all

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(bazel query --noshow_progress \
    'attr(tags, "(^\[|, )gpu(, |\]$)", kind("cc_(binary|test) rule", //...))' 2>/dev/null)
  if [ -f tools/gpu_bundle_targets.txt ]; then
    mapfile -t -O "${#targets[@]}" targets < <(sed 's/#.*//; /^[[:space:]]*$/d' tools/gpu_bundle_targets.txt)
  fi
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "make_gpu_bundle: no targets (tag cc_test/cc_binary with \"gpu\" or name them)" >&2
  exit 1
fi
echo "make_gpu_bundle: ${targets[*]}"

# Bazel's toolchain links with gcc plus an explicit -lstdc++, which -static-libstdc++ does not
# affect; a search directory holding only libstdc++.a makes that -lstdc++ static.
static_dir="$(bazel info output_base 2>/dev/null)/static_libstdcxx"
mkdir -p "$static_dir"
ln -sf "$(gcc -print-file-name=libstdc++.a)" "$static_dir/libstdc++.a"
# The Python package's C extension (its fast path for torch tensors) travels with the GPU library.
extension=//python:tileattn/lib/_fastpath.abi3.so
extras=()
if printf '%s\n' "${targets[@]}" | grep -qx '//attention/capi:libtileattn_gpu.so'; then extras=("$extension"); fi
bazel build --dynamic_mode=off --linkopt=-static-libstdc++ --linkopt=-static-libgcc \
  "--linkopt=-L$static_dir" "${targets[@]}" "${extras[@]}"

rm -rf "$BUNDLE"
mkdir -p "$BUNDLE/bin"
: >"$BUNDLE/TARGETS"
for label in "${targets[@]}"; do
  path="${label#//}"
  path="${path/://}"
  src="bazel-bin/$path"
  [ -x "$src" ] || { echo "make_gpu_bundle: $label built no executable at $src" >&2; exit 1; }
  # Only glibc may remain dynamic; anything else would be missing on the GPU machine.
  bad=$(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
        grep -Ev '^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so' || true)
  if [ -n "$bad" ]; then
    echo "make_gpu_bundle: $label needs shared libraries the GPU machine lacks: $bad" >&2
    exit 1
  fi
  mkdir -p "$BUNDLE/bin/$(dirname "$path")"
  cp "$src" "$BUNDLE/bin/$path"
  chmod u+w "$BUNDLE/bin/$path"
  # Data files (inputs, cubins, PTX) the target reads through its runfiles.
  if [ -d "$src.runfiles/$WORKSPACE_NAME" ]; then
    mkdir -p "$BUNDLE/bin/$path.runfiles"
    cp -rL "$src.runfiles/$WORKSPACE_NAME" "$BUNDLE/bin/$path.runfiles/"
    rm -f "$BUNDLE/bin/$path.runfiles/$WORKSPACE_NAME/$path"  # the binary itself
    chmod -R u+w "$BUNDLE/bin/$path.runfiles"
  fi
  echo "$label" >>"$BUNDLE/TARGETS"
done

# The Python package with the GPU library beside it, its GPU tests and its benchmark, when the
# library is bundled: on the GPU machine `PYTHONPATH=gpu_bundle/python python3 ...` (README,
# "From Python").
if [ -f "$BUNDLE/bin/attention/capi/libtileattn_gpu.so" ]; then
  mkdir -p "$BUNDLE/python/tileattn/lib" "$BUNDLE/python/tests" "$BUNDLE/python/benchmarks"
  cp python/tileattn/*.py "$BUNDLE/python/tileattn/"
  # Built against Python's limited API (abi3): it loads on the GPU machine's own Python 3.
  install -m 0755 bazel-bin/python/tileattn/lib/_fastpath.abi3.so "$BUNDLE/python/tileattn/lib/"
  mv "$BUNDLE/bin/attention/capi/libtileattn_gpu.so" "$BUNDLE/python/tileattn/lib/"  # once, not twice: it holds every cubin
  cp tests/python/gpu/*.py "$BUNDLE/python/tests/"
  cp python/benchmarks/*.py "$BUNDLE/python/benchmarks/"
  rm -rf "$BUNDLE/bin/attention/capi/libtileattn_gpu.so.runfiles"
fi

cat >"$BUNDLE/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs a bundled target like `bazel run`: gpu_bundle/run.sh //pkg:target [flags...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 //pkg:target [flags...]; bundled targets:" >&2
  cat "$here/TARGETS" >&2
  exit 2
fi
label="$1"
shift
path="${label#//}"
path="${path/://}"
bin="$here/bin/$path"
if [ ! -x "$bin" ]; then
  echo "run.sh: $label is not in this bundle; bundled targets:" >&2
  cat "$here/TARGETS" >&2
  exit 2
fi
# Like bazel run/test: the working directory is the target's runfiles tree.
export RUNFILES_DIR="$bin.runfiles" TEST_SRCDIR="$bin.runfiles" TEST_WORKSPACE=tileattn
export TEST_TMPDIR="${TEST_TMPDIR:-$(mktemp -d)}"
if [ -d "$bin.runfiles/tileattn" ]; then cd "$bin.runfiles/tileattn"; fi
exec "$bin" "$@"
RUN
chmod +x "$BUNDLE/run.sh"
{
  echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), glibc $(ldd --version | head -1 | awk '{print $NF}')"
} >"$BUNDLE/MANIFEST"

bytes=$(du -sb "$BUNDLE" | cut -f1)
echo "make_gpu_bundle: $BUNDLE/ holds ${#targets[@]} targets, $((bytes / 1024)) KiB"
# Over the limit (the attention kernel table is embedded in each binary), a gzip archive of the
# bundle (about a quarter of its size) travels instead: carry gpu_bundle.tar.gz and start the
# command with `tar xzf gpu_bundle.tar.gz`.
rm -f "$BUNDLE.tar.gz"
if [ "$bytes" -gt "$MAX_BYTES" ]; then
  tar czf "$BUNDLE.tar.gz" "$BUNDLE"
  packed=$(stat -c %s "$BUNDLE.tar.gz")
  echo "make_gpu_bundle: over $((MAX_BYTES / 1024 / 1024)) MiB; packed into $BUNDLE.tar.gz ($((packed / 1024)) KiB)"
  if [ "$packed" -gt "$MAX_BYTES" ]; then
    echo "make_gpu_bundle: warning: even packed over $((MAX_BYTES / 1024 / 1024)) MiB; bundle fewer targets" >&2
  fi
fi
