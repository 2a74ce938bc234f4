"""One forward or backward C call on torch tensors or NumPy arrays: picks the library from the
device, passes the current CUDA stream, allocates the outputs. torch tensors take the fast path
(_fast: the C extension) where it is built, everything else the DLPack path (_dlpack + ctypes).
No autograd here."""

from . import _dlpack, _fast, _library


_torch_types = set()  # the torch tensor types seen: one set lookup per call, not a module name


def is_torch(x):
    t = type(x)
    if t in _torch_types:
        return True
    if t.__module__.split(".")[0] == "torch":
        _torch_types.add(t)
        return True
    return False


_current_raw_stream = None


def _cuda_stream(index):
    """The handle of torch's current stream on device `index`. torch.cuda.current_stream builds a
    Stream object per call (about 10 us on the GPU machine); torch's raw getter (what Triton's
    launcher calls) returns the handle alone. Falls back where a torch lacks it."""
    global _current_raw_stream
    if _current_raw_stream is None:
        import torch
        raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
        _current_raw_stream = raw if raw is not None else (lambda i: torch.cuda.current_stream(i).cuda_stream)
    return _current_raw_stream(index)


def _device_and_stream(x, name):
    if is_torch(x):
        if x.is_cuda:
            return "cuda", _cuda_stream(x.get_device())
        return "cpu", None
    if type(x).__module__.split(".")[0] == "numpy":
        return "cpu", None
    raise TypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


_float32 = None


def empty(like, shape, float32=False):
    """An uninitialised tensor/array of `shape` on `like`'s device, `like`'s dtype or float32."""
    if is_torch(like):
        # new_empty: no torch.device object per call (host time per call counts).
        if not float32:
            return like.new_empty(shape)
        global _float32
        if _float32 is None:
            import torch
            _float32 = torch.float32
        return like.new_empty(shape, dtype=_float32)
    import numpy as np
    return np.empty(tuple(map(int, shape)), dtype=np.float32 if float32 else like.dtype)


def contiguous_last_dim(x):
    """flash-attn's maybe_contiguous: the kernels need unit stride along head_dim."""
    if x is None or not is_torch(x) or x.stride(-1) == 1:
        return x
    return x.contiguous()


def run(fn, first, values, options):
    """Calls entry point `fn` of tileattn.h with `values` in its order (_library.ENTRY_POINTS):
    tensors/arrays (or None) as DLTensors, ints as int32. `first` decides the library and
    stream; `options` is (softmax_scale, causal, window_size, softcap, alibi_slopes,
    deterministic). Raises ValueError (bad input: nothing was written) or RuntimeError."""
    if is_torch(first):
        device_type, stream = ("cuda", _cuda_stream(first.get_device())) if first.is_cuda else ("cpu", None)
        if _fast.call(device_type, fn, values, options, stream) is not NotImplemented:
            return
    else:
        name = next((n for n, v in zip(_library.ENTRY_POINTS[fn], values) if v is first), "tensor")
        device_type, stream = _device_and_stream(first, name)
    run_dlpack(fn, device_type, values, options, stream)


def run_dlpack(fn, device_type, values, options, stream):
    """run's DLPack path: DLTensors packed in Python, the entry point called through ctypes."""
    lib = _library.library(device_type)
    names = _library.ENTRY_POINTS[fn]
    softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic = options
    tensors = [(n, v) for n, v in zip(names, values) if n not in _library.INT32_ARGS]
    buf, addresses = _dlpack.pack(tensors + [("alibi_slopes", alibi_slopes)])
    it = iter(addresses)
    c_args = [v if n in _library.INT32_ARGS else next(it) for n, v in zip(names, values)]
    o = _library.make_options(softmax_scale, causal, window_size, softcap, next(it), deterministic)
    _library.call(lib, fn, *c_args, o, stream)
    del buf  # kept alive until here: the C call reads the DLTensors in it


def lse_shape(q, varlen):
    """softmax_lse's shape: (batch, nheads, seqlen_q), or (nheads, total_q) for varlen."""
    shape = tuple(q.shape)
    if varlen:
        return (shape[1], shape[0]) if len(shape) >= 2 else (0,)
    return (shape[0], shape[2], shape[1]) if len(shape) >= 3 else (0,)


def out_shape(q, v):
    """out is q's shape with v's head_dim."""
    q_shape, v_shape = tuple(q.shape), tuple(v.shape)
    return q_shape[:-1] + v_shape[-1:] if q_shape and v_shape else q_shape
