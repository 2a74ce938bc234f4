"""The fast path for torch tensors: the C extension tileattn._fastpath (_fastpath.c) reads the
tensors' fields in C and calls the C ABI's entry points itself, through the addresses of the
library _library loaded. On the GPU machine the DLPack path's per-call host time (46 us) was
mostly reading fields through torch's Python bindings and packing DLTensors in Python.

The extension is optional: where it was not built (or TILEATTN_FASTPATH=0), call() returns
NotImplemented and the DLPack path serves every call. It is looked for where the libraries are:
$TILEATTN_LIBRARY_DIR, tileattn/lib/ (python/build_tileattn.sh, the GPU bundle), and
<root>/bazel-bin/python/tileattn/lib/ or the runfiles' python/tileattn/lib/ after Bazel.
"""

import importlib.util
import os
import warnings

from . import _dlpack, _library

EXTENSION_VERSION = 1  # FASTPATH_VERSION of _fastpath.c this module was written for
FILE_NAME = "_fastpath.abi3.so"

enabled = os.environ.get("TILEATTN_FASTPATH", "1") != "0"

_extension = None  # the module; False once it proved unavailable
_bound = {}  # device type -> the extension's library capsule, or False
_index = {}  # entry point name -> the extension's index


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    paths = []
    if os.environ.get("TILEATTN_LIBRARY_DIR"):
        paths.append(os.path.join(os.environ["TILEATTN_LIBRARY_DIR"], FILE_NAME))
    return paths + [os.path.join(here, "lib", FILE_NAME), os.path.join(root, "bazel-bin", "python", "tileattn", "lib",
                                                                         FILE_NAME)]


def _import_extension():
    """The extension module set up for torch, or None (not built, or built for another version)."""
    path = next((p for p in _candidates() if os.path.isfile(p)), None)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location("tileattn._fastpath", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.VERSION != EXTENSION_VERSION or module.ABI_VERSION != _library.ABI_VERSION:
        warnings.warn(f"tileattn: {path} is version {module.VERSION} (C ABI {module.ABI_VERSION}), this package "
                      f"expects {EXTENSION_VERSION} (C ABI {_library.ABI_VERSION}); rebuild it "
                      f"(python/build_tileattn.sh). Using the slower DLPack path.")
        return None
    import torch
    codes = _dlpack._torch_dtype_codes()
    module.setup(torch.Tensor, tuple((dtype, code, bits) for dtype, (code, bits) in codes.items()))
    _index.update((name, i) for i, name in enumerate(module.ENTRY_POINTS))
    module.path = path
    return module


def extension():
    """The extension module, or None where the fast path is off."""
    global _extension
    if _extension is None:
        _extension = _import_extension() or False
    return _extension or None


def _bind(device_type):
    ext = extension() if enabled else None
    if ext is None:
        return False
    import ctypes
    lib = _library.library(device_type)
    return ext.bind({name: ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in ext.SYMBOLS})


def call(device_type, fn, values, options, stream):
    """Runs entry point `fn` on torch tensors through the extension: None when it ran (or raised
    ValueError/RuntimeError as _library.call does), NotImplemented when the fast path is off or
    does not take these arguments (nothing was called: run the DLPack path)."""
    lib = _bound.get(device_type) if enabled else False
    if lib is None:
        lib = _bound[device_type] = _bind(device_type)
    if lib is False:
        return NotImplemented
    return _extension.call(lib, _index[fn], values, options, stream)


def available(device_type):
    """Whether calls on `device_type` tensors ("cpu" or "cuda") take the fast path."""
    if not enabled:
        return False
    if device_type not in _bound:
        _bound[device_type] = _bind(device_type)
    return _bound[device_type] is not False
