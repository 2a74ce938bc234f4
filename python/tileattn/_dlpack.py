"""DLPack's DLTensor (dlpack/dlpack.h, version 0.6) as ctypes structures, filled from torch
tensors, NumPy arrays or anything exporting ``__dlpack__``. The structures only borrow the
memory: the caller keeps the tensor alive for the duration of the C call."""

import ctypes

kDLCPU, kDLCUDA = 1, 2
kDLInt, kDLFloat, kDLBfloat = 0, 2, 4


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", DLDevice),
        ("ndim", ctypes.c_int),
        ("dtype", DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class BorrowedTensor:
    """A DLTensor describing `owner`'s memory; keeps the shape/stride arrays (and owner) alive."""

    __slots__ = ("owner", "shape", "strides", "struct")

    def __init__(self, owner, data, device, dtype, shape, strides):
        self.owner = owner
        n = len(shape)
        self.shape = (ctypes.c_int64 * n)(*shape)
        self.strides = (ctypes.c_int64 * n)(*strides)
        self.struct = DLTensor(data, DLDevice(*device), n, DLDataType(dtype[0], dtype[1], 1),
                               self.shape, self.strides, 0)

    def pointer(self):
        return ctypes.byref(self.struct)


def _torch_dtype_codes():
    import torch
    return {
        torch.float16: (kDLFloat, 16), torch.bfloat16: (kDLBfloat, 16), torch.float32: (kDLFloat, 32),
        torch.float64: (kDLFloat, 64), torch.int32: (kDLInt, 32), torch.int64: (kDLInt, 64),
    }


_TORCH_CODES = None
_NUMPY_KINDS = {("f", 2): (kDLFloat, 16), ("f", 4): (kDLFloat, 32), ("f", 8): (kDLFloat, 64),
                ("i", 4): (kDLInt, 32), ("i", 8): (kDLInt, 64)}


def from_torch(t, name):
    global _TORCH_CODES
    if _TORCH_CODES is None:
        _TORCH_CODES = _torch_dtype_codes()
    code = _TORCH_CODES.get(t.dtype)
    if code is None:
        raise TypeError(f"{name}: expected dtype float16 or bfloat16 (float32 for softmax_lse and "
                        f"alibi_slopes, int32 for cu_seqlens), got {t.dtype}")
    if t.device.type == "cpu":
        device = (kDLCPU, 0)
    elif t.device.type == "cuda":
        device = (kDLCUDA, t.device.index if t.device.index is not None else 0)
    else:
        raise ValueError(f"{name}: expected a CPU or CUDA tensor, got device {t.device}")
    return BorrowedTensor(t, t.data_ptr(), device, code, tuple(t.shape), t.stride())


def from_numpy(a, name):
    code = _NUMPY_KINDS.get((a.dtype.kind, a.dtype.itemsize))
    if code is None:
        raise TypeError(f"{name}: expected dtype float16 (float32 for softmax_lse and alibi_slopes, "
                        f"int32 for cu_seqlens), got {a.dtype}")
    if any(s % a.itemsize for s in a.strides):
        raise ValueError(f"{name}: strides {a.strides} are not multiples of the element size")
    strides = tuple(s // a.itemsize for s in a.strides)
    return BorrowedTensor(a, a.ctypes.data, (kDLCPU, 0), code, a.shape, strides)


def borrow(x, name):
    """The DLTensor of a torch tensor or NumPy array (None stays None)."""
    if x is None:
        return None
    kind = type(x).__module__.split(".")[0]
    if kind == "torch":
        return from_torch(x, name)
    if kind == "numpy":
        return from_numpy(x, name)
    raise TypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def pointer(borrowed):
    return None if borrowed is None else borrowed.pointer()
