"""flash-attn 2.6.3's Python functions (flash_attn/flash_attn_interface.py): same names,
signatures, defaults and return values. torch tensors go through torch.autograd.Function, so
loss.backward() works; NumPy arrays (CPU, float16) run the forward only.

Differences from flash-attn: dropout is not implemented (dropout_p must be 0); with
return_attn_probs=True the third value is None (no attention probabilities are returned); a
query row that sees no key gets softmax_lse = -inf (flash-attn writes +inf)."""

from . import _ops


def _check_unsupported(dropout_p, block_table=None):
    if dropout_p != 0.0:
        raise ValueError(f"dropout_p: expected 0.0 (dropout is not implemented), got {dropout_p}")
    if block_table is not None:
        raise ValueError("block_table: expected None (paged KV cache is not implemented)")


_torch_tensor_types = set()  # torch types that passed _check_arrays: later calls skip its messages


def _check_arrays(names, *arrays):
    """TypeError unless every argument is a torch.Tensor, or every one a numpy.ndarray."""
    for x in arrays:
        if type(x) not in _torch_tensor_types:
            break
    else:
        return
    kinds = {}
    for name, x in zip(names, arrays):
        kind = type(x).__module__.split(".")[0]
        if kind not in ("torch", "numpy") or not hasattr(x, "shape"):
            raise TypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(x).__name__}")
        kinds.setdefault(kind, name)
    if len(kinds) > 1:
        raise TypeError(f"{kinds['numpy']}: expected a torch.Tensor like {kinds['torch']}, got a numpy.ndarray "
                        "(pass all arrays of one kind)")
    if "torch" in kinds:
        _torch_tensor_types.update(type(x) for x in arrays)


def _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic):
    """The options as _ops.run takes them (a tuple: the fast path reads it from C)."""
    return (softmax_scale, causal, tuple(window_size), softcap, alibi_slopes, deterministic)


# ---- one forward / backward per function, on tensors or arrays ----------------------------------
def _fwd(q, k, v, o):
    q, k, v = [_ops.contiguous_last_dim(x) for x in (q, k, v)]
    out, lse = _ops.empty(q, _ops.out_shape(q, v)), _ops.empty(q, _ops.lse_shape(q, False), float32=True)
    _ops.run("tileattn_fwd", q, (q, k, v, out, lse), o)
    return out, lse


def _fwd_qkvpacked(qkv, o):
    qkv = _ops.contiguous_last_dim(qkv)
    shape = tuple(qkv.shape)
    out_shape = shape[:2] + shape[3:] if len(shape) == 5 else shape
    lse_shape = (shape[0], shape[3], shape[1]) if len(shape) == 5 else (0,)
    out, lse = _ops.empty(qkv, out_shape), _ops.empty(qkv, lse_shape, float32=True)
    _ops.run("tileattn_fwd_qkvpacked", qkv, (qkv, out, lse), o)
    return out, lse


def _fwd_kvpacked(q, kv, o):
    q, kv = _ops.contiguous_last_dim(q), _ops.contiguous_last_dim(kv)
    out, lse = _ops.empty(q, tuple(q.shape)), _ops.empty(q, _ops.lse_shape(q, False), float32=True)
    _ops.run("tileattn_fwd_kvpacked", q, (q, kv, out, lse), o)
    return out, lse


def _fwd_varlen(q, k, v, cu_q, cu_k, max_q, max_k, o):
    q, k, v = [_ops.contiguous_last_dim(x) for x in (q, k, v)]
    out, lse = _ops.empty(q, _ops.out_shape(q, v)), _ops.empty(q, _ops.lse_shape(q, True), float32=True)
    _ops.run("tileattn_fwd_varlen", q, (q, k, v, cu_q, cu_k, int(max_q), int(max_k), out, lse), o)
    return out, lse


def _fwd_varlen_qkvpacked(qkv, cu, max_seqlen, o):
    qkv = _ops.contiguous_last_dim(qkv)
    shape = tuple(qkv.shape)
    out_shape = (shape[0],) + shape[2:] if len(shape) == 4 else shape
    lse_shape = (shape[2], shape[0]) if len(shape) == 4 else (0,)
    out, lse = _ops.empty(qkv, out_shape), _ops.empty(qkv, lse_shape, float32=True)
    _ops.run("tileattn_fwd_varlen_qkvpacked", qkv, (qkv, cu, int(max_seqlen), out, lse), o)
    return out, lse


def _like(x):
    return _ops.empty(x, tuple(x.shape))


# ---- autograd -----------------------------------------------------------------------------------
def _autograd_function():
    """The torch.autograd.Function classes, built on first use so that importing tileattn needs
    no torch (NumPy users)."""
    import torch

    class FlashAttnFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, o):
            out, lse = _fwd(q.detach(), k.detach(), v.detach(), o)
            ctx.save_for_backward(q, k, v, out, lse)
            ctx.o = o
            ctx.mark_non_differentiable(lse)
            return out, lse

        @staticmethod
        def backward(ctx, dout, _dlse):
            q, k, v, out, lse = ctx.saved_tensors
            dout = _ops.contiguous_last_dim(dout)
            dq, dk, dv = _like(q), _like(k), _like(v)
            _ops.run("tileattn_bwd", q, (dout, q, k, v, out, lse, dq, dk, dv), ctx.o)
            return dq, dk, dv, None

    class FlashAttnQKVPackedFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, qkv, o):
            out, lse = _fwd_qkvpacked(qkv.detach(), o)
            ctx.save_for_backward(qkv, out, lse)
            ctx.o = o
            ctx.mark_non_differentiable(lse)
            return out, lse

        @staticmethod
        def backward(ctx, dout, _dlse):
            qkv, out, lse = ctx.saved_tensors
            dout = _ops.contiguous_last_dim(dout)
            dqkv = _like(qkv)
            _ops.run("tileattn_bwd_qkvpacked", qkv, (dout, qkv, out, lse, dqkv), ctx.o)
            return dqkv, None

    class FlashAttnKVPackedFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, kv, o):
            out, lse = _fwd_kvpacked(q.detach(), kv.detach(), o)
            ctx.save_for_backward(q, kv, out, lse)
            ctx.o = o
            ctx.mark_non_differentiable(lse)
            return out, lse

        @staticmethod
        def backward(ctx, dout, _dlse):
            q, kv, out, lse = ctx.saved_tensors
            dout = _ops.contiguous_last_dim(dout)
            dq, dkv = _like(q), _like(kv)
            _ops.run("tileattn_bwd_kvpacked", q, (dout, q, kv, out, lse, dq, dkv), ctx.o)
            return dq, dkv, None

    class FlashAttnVarlenFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, q, k, v, cu_q, cu_k, max_q, max_k, o):
            out, lse = _fwd_varlen(q.detach(), k.detach(), v.detach(), cu_q, cu_k, max_q, max_k, o)
            ctx.save_for_backward(q, k, v, out, lse, cu_q, cu_k)
            ctx.o, ctx.max_q, ctx.max_k = o, int(max_q), int(max_k)
            ctx.mark_non_differentiable(lse)
            return out, lse

        @staticmethod
        def backward(ctx, dout, _dlse):
            q, k, v, out, lse, cu_q, cu_k = ctx.saved_tensors
            dout = _ops.contiguous_last_dim(dout)
            dq, dk, dv = _like(q), _like(k), _like(v)
            _ops.run("tileattn_bwd_varlen", q,
                     (dout, q, k, v, out, lse, cu_q, cu_k, ctx.max_q, ctx.max_k, dq, dk, dv), ctx.o)
            return dq, dk, dv, None, None, None, None, None

    class FlashAttnVarlenQKVPackedFunc(torch.autograd.Function):
        @staticmethod
        def forward(ctx, qkv, cu, max_seqlen, o):
            out, lse = _fwd_varlen_qkvpacked(qkv.detach(), cu, max_seqlen, o)
            ctx.save_for_backward(qkv, out, lse, cu)
            ctx.o, ctx.max_seqlen = o, int(max_seqlen)
            ctx.mark_non_differentiable(lse)
            return out, lse

        @staticmethod
        def backward(ctx, dout, _dlse):
            qkv, out, lse, cu = ctx.saved_tensors
            dout = _ops.contiguous_last_dim(dout)
            dqkv = _like(qkv)
            _ops.run("tileattn_bwd_varlen_qkvpacked", qkv, (dout, qkv, out, lse, cu, ctx.max_seqlen, dqkv), ctx.o)
            return dqkv, None, None, None

    return dict(func=FlashAttnFunc, qkvpacked=FlashAttnQKVPackedFunc, kvpacked=FlashAttnKVPackedFunc,
                varlen=FlashAttnVarlenFunc, varlen_qkvpacked=FlashAttnVarlenQKVPackedFunc)


_functions = None
_grad_enabled = None


def _needs_grad(args):
    """Whether autograd must see this call: grad mode on and some input requiring a gradient."""
    global _grad_enabled
    if _grad_enabled is None:
        import torch
        _grad_enabled = torch.is_grad_enabled
    if _grad_enabled():
        for a in args:
            if getattr(a, "requires_grad", False):
                return True
    return False


def _apply(kind, forward, first, *args):
    """Runs the torch.autograd.Function `kind` for torch tensors that need a gradient, and the
    plain `forward` otherwise (NumPy arrays; inference, where the Function's bookkeeping alone
    costs about 30 us of host time per call on the GPU machine)."""
    global _functions
    if not _ops.is_torch(first) or not _needs_grad(args):
        return forward(*args)
    if _functions is None:
        _functions = _autograd_function()
    return _functions[kind].apply(*args)


def _result(out, lse, return_attn_probs):
    return (out, lse, None) if return_attn_probs else out


# ---- flash-attn's functions ---------------------------------------------------------------------
def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False, window_size=(-1, -1), softcap=0.0,
                    alibi_slopes=None, deterministic=False, return_attn_probs=False):
    """q (batch, seqlen_q, nheads, head_dim), k (batch, seqlen_k, nheads_k, head_dim),
    v (batch, seqlen_k, nheads_k, head_dim_v) -> out (batch, seqlen_q, nheads, head_dim_v);
    with return_attn_probs: (out, softmax_lse (batch, nheads, seqlen_q) float32, None)."""
    _check_unsupported(dropout_p)
    _check_arrays(("q", "k", "v"), q, k, v)
    o = _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic)
    out, lse = _apply("func", _fwd, q, q, k, v, o)
    return _result(out, lse, return_attn_probs)


def flash_attn_qkvpacked_func(qkv, dropout_p=0.0, softmax_scale=None, causal=False, window_size=(-1, -1),
                              softcap=0.0, alibi_slopes=None, deterministic=False, return_attn_probs=False):
    """qkv (batch, seqlen, 3, nheads, head_dim) -> out (batch, seqlen, nheads, head_dim)."""
    _check_unsupported(dropout_p)
    _check_arrays(("qkv",), qkv)
    o = _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic)
    out, lse = _apply("qkvpacked", _fwd_qkvpacked, qkv, qkv, o)
    return _result(out, lse, return_attn_probs)


def flash_attn_kvpacked_func(q, kv, dropout_p=0.0, softmax_scale=None, causal=False, window_size=(-1, -1),
                             softcap=0.0, alibi_slopes=None, deterministic=False, return_attn_probs=False):
    """q (batch, seqlen_q, nheads, head_dim), kv (batch, seqlen_k, 2, nheads_k, head_dim)."""
    _check_unsupported(dropout_p)
    _check_arrays(("q", "kv"), q, kv)
    o = _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic)
    out, lse = _apply("kvpacked", _fwd_kvpacked, q, q, kv, o)
    return _result(out, lse, return_attn_probs)


def flash_attn_varlen_func(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, dropout_p=0.0,
                           softmax_scale=None, causal=False, window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                           deterministic=False, return_attn_probs=False, block_table=None):
    """q (total_q, nheads, head_dim), k (total_k, nheads_k, head_dim), v (total_k, nheads_k, head_dim_v),
    cu_seqlens_q/k int32 (batch + 1) -> out (total_q, nheads, head_dim_v); softmax_lse (nheads, total_q)."""
    _check_unsupported(dropout_p, block_table)
    _check_arrays(("q", "k", "v", "cu_seqlens_q", "cu_seqlens_k"), q, k, v, cu_seqlens_q, cu_seqlens_k)
    o = _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic)
    out, lse = _apply("varlen", _fwd_varlen, q, q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q, max_seqlen_k, o)
    return _result(out, lse, return_attn_probs)


def flash_attn_varlen_qkvpacked_func(qkv, cu_seqlens, max_seqlen, dropout_p=0.0, softmax_scale=None, causal=False,
                                     window_size=(-1, -1), softcap=0.0, alibi_slopes=None, deterministic=False,
                                     return_attn_probs=False):
    """qkv (total, 3, nheads, head_dim), cu_seqlens int32 (batch + 1) -> out (total, nheads, head_dim)."""
    _check_unsupported(dropout_p)
    _check_arrays(("qkv", "cu_seqlens"), qkv, cu_seqlens)
    o = _options(softmax_scale, causal, window_size, softcap, alibi_slopes, deterministic)
    out, lse = _apply("varlen_qkvpacked", _fwd_varlen_qkvpacked, qkv, qkv, cu_seqlens, max_seqlen, o)
    return _result(out, lse, return_attn_probs)
