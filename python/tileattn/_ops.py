"""One forward or backward C call on torch tensors or NumPy arrays: picks the library from the
device, passes the current CUDA stream, allocates the outputs. No autograd here."""

from . import _dlpack, _library


def is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


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


def empty(like, shape, float32=False):
    """An uninitialised tensor/array of `shape` on `like`'s device, `like`'s dtype or float32."""
    shape = tuple(map(int, shape))
    if is_torch(like):
        import torch
        return torch.empty(shape, dtype=torch.float32 if float32 else like.dtype, device=like.device)
    import numpy as np
    return np.empty(shape, dtype=np.float32 if float32 else like.dtype)


def contiguous_last_dim(x):
    """flash-attn's maybe_contiguous: the kernels need unit stride along head_dim."""
    if x is None or not is_torch(x) or x.stride(-1) == 1:
        return x
    return x.contiguous()


def run(fn, first, args, options):
    """Calls `fn` with `args`: a list of (name, value) where value is a tensor/array (or None)
    passed as a DLTensor, or an int passed as int32. `first` decides the library and stream."""
    device_type, stream = _device_and_stream(first[1], first[0])
    lib = _library.library(device_type)
    tensors = [(name, value) for name, value in args if not isinstance(value, int)]
    tensors.append(("alibi_slopes", options.get("alibi_slopes")))
    buf, addresses = _dlpack.pack(tensors)
    c_args, it = [], iter(addresses)
    for name, value in args:
        c_args.append(value if isinstance(value, int) else next(it))
    o = _library.make_options(options.get("softmax_scale"), options.get("causal", False),
                              options.get("window_size", (-1, -1)), options.get("softcap", 0.0), next(it),
                              options.get("deterministic", False))
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
    return tuple(q.shape[:-1]) + (v.shape[-1],) if len(q.shape) and len(v.shape) else tuple(q.shape)
