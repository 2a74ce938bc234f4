"""libtileattn_gpu.so on a machine without a GPU: it links nothing but the C/C++ runtime (no
MLIR/LLVM: it must load on the GPU machine), loads, names itself, and a call on CUDA tensors is
TILEATTN_UNAVAILABLE with the driver's message rather than a crash."""

import os
import subprocess

import pytest

from tileattn import _dlpack, _library

LIB = os.path.join("attention", "capi", "libtileattn_gpu.so")


def test_links_no_mlir():
    needed = subprocess.run(["readelf", "-d", LIB], capture_output=True, text=True, check=True).stdout
    libs = [line.split("[")[1].rstrip("]") for line in needed.splitlines() if "(NEEDED)" in line]
    assert libs and not [l for l in libs if "MLIR" in l or "LLVM" in l], libs


def test_loads_and_reports_no_driver(monkeypatch):
    monkeypatch.setenv("TILEATTN_GPU_LIBRARY", os.path.abspath(LIB))
    lib = _library._load("cuda")
    assert lib.tileattn_backend_name() == b"gpu"
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    q = torch.zeros(1, 4, 1, 8, dtype=torch.bfloat16)
    buf, addresses = _dlpack.pack([("q", q)] * 5)
    # Rewrite the device of each DLTensor to CUDA 0 (a torch CPU build cannot make CUDA tensors).
    for a in addresses:
        (__import__("ctypes").c_int32).from_address(a + 8).value = _dlpack.kDLCUDA
    o = _library.make_options(None, False, (-1, -1), 0.0, None, False)
    status = lib.tileattn_fwd(*addresses, o, None)
    assert status in (_library.UNAVAILABLE, _library.RUNTIME_ERROR)
    assert lib.tileattn_last_error()
