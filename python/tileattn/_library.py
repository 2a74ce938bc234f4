"""Loads the C ABI (attention/capi/tileattn.h) with ctypes and turns its status codes into
Python exceptions carrying the C++ message. libtileattn_cpu.so serves CPU tensors (the tile
interpreter), libtileattn_gpu.so CUDA tensors; each is loaded on first use.

Where a library is looked for, first match wins:
  $TILEATTN_CPU_LIBRARY / $TILEATTN_GPU_LIBRARY   a full path
  $TILEATTN_LIBRARY_DIR                           a folder holding both
  tileattn/lib/                                   next to this package (tools/install_python_package.sh)
  <root>/attention/capi/, <root>/bazel-bin/attention/capi/  with <root> two folders above this
      package: the Bazel runfiles tree of a py_test, or the source tree after `bazel build`.
"""

import ctypes
import os
import threading

ABI_VERSION = 1  # TILEATTN_ABI_VERSION this package was written for

OK, INVALID_ARGUMENT, UNAVAILABLE, RUNTIME_ERROR = 0, 1, 2, 3

_FILE_NAMES = {"cpu": "libtileattn_cpu.so", "cuda": "libtileattn_gpu.so"}
_ENV_NAMES = {"cpu": "TILEATTN_CPU_LIBRARY", "cuda": "TILEATTN_GPU_LIBRARY"}

_P = ctypes.c_void_p  # const DLTensor* (an address from _dlpack.pack, or None)
_I = ctypes.c_int32


class Options(ctypes.Structure):
    """tileattn_options."""
    _fields_ = [
        ("softmax_scale", ctypes.c_double),
        ("has_softmax_scale", ctypes.c_int32),
        ("causal", ctypes.c_int32),
        ("window_left", ctypes.c_int32),
        ("window_right", ctypes.c_int32),
        ("softcap", ctypes.c_double),
        ("alibi_slopes", ctypes.c_void_p),
        ("deterministic", ctypes.c_int32),
    ]


# The arguments of each entry point before options and stream, after tileattn.h: tensors by
# name (the name in error messages), the int32 ones listed in INT32_ARGS.
ENTRY_POINTS = {
    "tileattn_fwd": ("q", "k", "v", "out", "softmax_lse"),
    "tileattn_fwd_qkvpacked": ("qkv", "out", "softmax_lse"),
    "tileattn_fwd_kvpacked": ("q", "kv", "out", "softmax_lse"),
    "tileattn_fwd_varlen": ("q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "max_seqlen_q", "max_seqlen_k", "out",
                            "softmax_lse"),
    "tileattn_fwd_varlen_qkvpacked": ("qkv", "cu_seqlens", "max_seqlen", "out", "softmax_lse"),
    "tileattn_bwd": ("dout", "q", "k", "v", "out", "softmax_lse", "dq", "dk", "dv"),
    "tileattn_bwd_qkvpacked": ("dout", "qkv", "out", "softmax_lse", "dqkv"),
    "tileattn_bwd_kvpacked": ("dout", "q", "kv", "out", "softmax_lse", "dq", "dkv"),
    "tileattn_bwd_varlen": ("dout", "q", "k", "v", "out", "softmax_lse", "cu_seqlens_q", "cu_seqlens_k",
                            "max_seqlen_q", "max_seqlen_k", "dq", "dk", "dv"),
    "tileattn_bwd_varlen_qkvpacked": ("dout", "qkv", "out", "softmax_lse", "cu_seqlens", "max_seqlen", "dqkv"),
}
INT32_ARGS = frozenset({"max_seqlen_q", "max_seqlen_k", "max_seqlen"})

_loaded = {}
_lock = threading.Lock()


def _candidates(device_type):
    name = _FILE_NAMES[device_type]
    env = os.environ.get(_ENV_NAMES[device_type])
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    paths = []
    if os.environ.get("TILEATTN_LIBRARY_DIR"):
        paths.append(os.path.join(os.environ["TILEATTN_LIBRARY_DIR"], name))
    paths += [os.path.join(here, "lib", name), os.path.join(root, "attention", "capi", name),
              os.path.join(root, "bazel-bin", "attention", "capi", name)]
    return paths


def _load(device_type):
    paths = _candidates(device_type)
    path = next((p for p in paths if os.path.isfile(p)), None)
    if path is None:
        raise RuntimeError(f"tileattn: {_FILE_NAMES[device_type]} not found (looked in {', '.join(paths)}); "
                           f"build it with `bazel build //attention/capi:{_FILE_NAMES[device_type]}` (README, "
                           f"\"From Python\") or set ${_ENV_NAMES[device_type]}")
    lib = ctypes.CDLL(path)
    lib.tileattn_abi_version.restype = ctypes.c_int32
    version = lib.tileattn_abi_version()
    if version != ABI_VERSION:
        raise RuntimeError(f"tileattn: {path} has C ABI version {version}, this package expects {ABI_VERSION}")
    lib.tileattn_last_error.restype = ctypes.c_char_p
    lib.tileattn_backend_name.restype = ctypes.c_char_p
    lib.tileattn_default_options.restype = Options
    for fn, names in ENTRY_POINTS.items():
        f = getattr(lib, fn)
        f.argtypes = [_I if n in INT32_ARGS else _P for n in names] + [ctypes.POINTER(Options), ctypes.c_void_p]
        f.restype = ctypes.c_int
    lib.path = path
    return lib


def library(device_type):
    """The loaded library for "cpu" or "cuda" tensors."""
    lib = _loaded.get(device_type)
    if lib is None:
        with _lock:
            lib = _loaded.get(device_type)
            if lib is None:
                lib = _loaded[device_type] = _load(device_type)
    return lib


def make_options(softmax_scale, causal, window_size, softcap, alibi_address, deterministic):
    o = Options()
    if softmax_scale is not None:
        o.softmax_scale = float(softmax_scale)
        o.has_softmax_scale = 1
    o.causal = 1 if causal else 0
    if len(window_size) != 2:
        raise ValueError(f"window_size: expected (left, right), got {window_size!r}")
    o.window_left, o.window_right = int(window_size[0]), int(window_size[1])
    o.softcap = float(softcap)
    o.alibi_slopes = alibi_address
    o.deterministic = 1 if deterministic else 0
    return o


def call(lib, fn, *args):
    """Calls entry point `fn`; raises ValueError (bad input: nothing was written) or RuntimeError."""
    status = getattr(lib, fn)(*args)
    if status == OK:
        return
    message = lib.tileattn_last_error().decode("utf-8", "replace")
    if status == INVALID_ARGUMENT:
        raise ValueError(message)
    raise RuntimeError(f"{fn}: {message}")
