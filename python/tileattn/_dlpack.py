"""DLPack's DLTensor (dlpack/dlpack.h, version 0.6), written for torch tensors and NumPy arrays
straight into one ctypes buffer per call (struct.pack_into: building ctypes.Structure objects
cost several times more per tensor). The DLTensors only borrow the memory: the caller keeps the
tensors alive for the duration of the C call.

DLTensor on x86-64 / aarch64 (48 bytes): void* data; DLDevice {int32 device_type, int32
device_id}; int32 ndim; DLDataType {uint8 code, uint8 bits, uint16 lanes}; int64* shape;
int64* strides; uint64 byte_offset.
"""

import ctypes
import struct

kDLCPU, kDLCUDA = 1, 2
kDLInt, kDLFloat, kDLBfloat = 0, 2, 4

_HEADER = struct.Struct("<QiiiBBHQQQ")
assert _HEADER.size == 48

_NUMPY_CODES = {("f", 2): (kDLFloat, 16), ("f", 4): (kDLFloat, 32), ("f", 8): (kDLFloat, 64),
                ("i", 4): (kDLInt, 32), ("i", 8): (kDLInt, 64)}
_torch_codes = None


def _torch_dtype_codes():
    import torch
    return {torch.float16: (kDLFloat, 16), torch.bfloat16: (kDLBfloat, 16), torch.float32: (kDLFloat, 32),
            torch.float64: (kDLFloat, 64), torch.int32: (kDLInt, 32), torch.int64: (kDLInt, 64)}


def _describe_torch(t, name):
    """(data, device_type, device_id, code, bits, shape, strides) of a torch tensor."""
    global _torch_codes
    if _torch_codes is None:
        _torch_codes = _torch_dtype_codes()
    code = _torch_codes.get(t.dtype)
    if code is None:
        raise TypeError(f"{name}: expected dtype float16 or bfloat16 (float32 for softmax_lse and "
                        f"alibi_slopes, int32 for cu_seqlens), got {t.dtype}")
    # is_cuda / get_device: no torch.device object per tensor (host time per call counts).
    if t.is_cuda:
        device = (kDLCUDA, t.get_device())
    elif t.device.type == "cpu":
        device = (kDLCPU, 0)
    else:
        raise ValueError(f"{name}: expected a CPU or CUDA tensor, got device {t.device}")
    return t.data_ptr(), device, code, t.shape, t.stride()


def _describe_numpy(a, name):
    code = _NUMPY_CODES.get((a.dtype.kind, a.dtype.itemsize))
    if code is None:
        raise TypeError(f"{name}: expected dtype float16 (float32 for softmax_lse and alibi_slopes, "
                        f"int32 for cu_seqlens), got {a.dtype}")
    if any(s % a.itemsize for s in a.strides):
        raise ValueError(f"{name}: strides {a.strides} are not multiples of the element size")
    return a.ctypes.data, (kDLCPU, 0), code, a.shape, tuple(s // a.itemsize for s in a.strides)


def describe(x, name):
    kind = type(x).__module__.partition(".")[0]
    if kind == "torch":
        return _describe_torch(x, name)
    if kind == "numpy":
        return _describe_numpy(x, name)
    raise TypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def pack(named):
    """DLTensors for [(name, tensor or None), ...] in one buffer: (buffer, [address or None]).
    Keep the buffer (and the tensors) alive while the addresses are in use."""
    described = [None if x is None else describe(x, name) for name, x in named]
    size = sum(_HEADER.size + 16 * len(d[3]) for d in described if d is not None)
    buf = ctypes.create_string_buffer(max(size, 1))
    base = ctypes.addressof(buf)
    addresses, offset = [], 0
    for d in described:
        if d is None:
            addresses.append(None)
            continue
        data, device, code, shape, strides = d
        n = len(shape)
        shape_at = offset + _HEADER.size
        strides_at = shape_at + 8 * n
        _HEADER.pack_into(buf, offset, data, device[0], device[1], n, code[0], code[1], 1, base + shape_at,
                          base + strides_at, 0)
        struct.pack_into(f"<{2 * n}q", buf, shape_at, *shape, *strides)
        addresses.append(base + offset)
        offset = strides_at + 8 * n
    return buf, addresses
