"""The fast path (the C extension tileattn._fastpath) on the CPU library: it is the path torch
tensors take, it gives bit for bit the DLPack path's results for every function forward and
backward, and bad input still raises the DLPack path's errors with nothing written."""

import numpy as np
import pytest
import torch

import tileattn
from tileattn import _dlpack, _fast, _library, _ops

B, SQ, SK, H, HK, D, DV = 2, 7, 13, 2, 1, 24, 40  # ragged: nothing a multiple of a tile size
CU_Q = torch.tensor([0, 3, 3, 11], dtype=torch.int32)  # one empty sequence
CU_K = torch.tensor([0, 5, 6, 19], dtype=torch.int32)
SLOPES = torch.rand(B, H, generator=torch.Generator().manual_seed(1))


def rand(*shape, dtype=torch.bfloat16):
    return torch.randn(*shape, dtype=dtype)


# Each function at a small ragged shape: (name, inputs, call).
CASES = [
    ("flash_attn_func", lambda: [rand(B, SQ, H, D), rand(B, SK, HK, D), rand(B, SK, HK, DV)],
     lambda q, k, v: tileattn.flash_attn_func(q, k, v, causal=True, softcap=3.0, return_attn_probs=True)),
    ("flash_attn_func alibi window", lambda: [rand(B, SQ, H, D), rand(B, SK, H, D), rand(B, SK, H, D)],
     lambda q, k, v: tileattn.flash_attn_func(q, k, v, softmax_scale=0.3, window_size=(4, 2), deterministic=True,
                                              alibi_slopes=SLOPES, return_attn_probs=True)),
    ("flash_attn_qkvpacked_func", lambda: [rand(B, SK, 3, H, D, dtype=torch.float16)],
     lambda qkv: tileattn.flash_attn_qkvpacked_func(qkv, causal=True, return_attn_probs=True)),
    ("flash_attn_kvpacked_func", lambda: [rand(B, SQ, H, D), rand(B, SK, 2, HK, D)],
     lambda q, kv: tileattn.flash_attn_kvpacked_func(q, kv, return_attn_probs=True)),
    ("flash_attn_varlen_func", lambda: [rand(11, H, D), rand(19, HK, D), rand(19, HK, DV)],
     lambda q, k, v: tileattn.flash_attn_varlen_func(q, k, v, CU_Q, CU_K, 8, 13, causal=True, return_attn_probs=True)),
    ("flash_attn_varlen_qkvpacked_func", lambda: [rand(19, 3, H, D, dtype=torch.float16)],
     lambda qkv: tileattn.flash_attn_varlen_qkvpacked_func(qkv, CU_K, 13, window_size=(3, 0), return_attn_probs=True)),
]


def forward_backward(call, inputs):
    leaves = [x.clone().requires_grad_(True) for x in inputs]
    out, lse, _ = call(*leaves)
    torch.manual_seed(7)
    grads = torch.autograd.grad(out, leaves, torch.randn_like(out))
    return [out.detach(), lse] + list(grads)


def no_dlpack(*args, **kwargs):
    raise AssertionError("the DLPack path was taken")


def test_the_extension_is_built_and_serves_the_cpu_library():
    assert _fast.available("cpu"), "tileattn._fastpath not found next to the package"
    ext = _fast.extension()
    assert ext.VERSION == _fast.EXTENSION_VERSION and ext.ABI_VERSION == _library.ABI_VERSION


def test_the_extension_agrees_with_the_entry_point_table():
    """_fastpath.c calls each entry point with its C type; its argument kinds ('t' tensor, 'i'
    int32) must be those of _library.ENTRY_POINTS, which the DLPack path uses."""
    kinds = _fast.extension().ARGUMENT_KINDS
    assert set(kinds) == set(_library.ENTRY_POINTS)
    for name, args in _library.ENTRY_POINTS.items():
        assert kinds[name] == "".join("i" if a in _library.INT32_ARGS else "t" for a in args), name


@pytest.mark.parametrize("name,make_inputs,call", CASES, ids=[c[0] for c in CASES])
def test_torch_tensors_take_the_fast_path_with_the_dlpack_paths_results(name, make_inputs, call, monkeypatch):
    torch.manual_seed(0)
    inputs = make_inputs()
    with monkeypatch.context() as m:
        m.setattr(_dlpack, "pack", no_dlpack)  # forward and backward must not pack DLTensors
        fast = forward_backward(call, inputs)
    monkeypatch.setattr(_fast, "enabled", False)
    slow = forward_backward(call, inputs)
    for i, (a, b) in enumerate(zip(fast, slow)):
        assert a.dtype == b.dtype and a.shape == b.shape, i
        assert torch.equal(a, b), f"{name}: result {i} differs between the fast and the DLPack path"


def test_inference_without_autograd_takes_the_fast_path(monkeypatch):
    monkeypatch.setattr(_dlpack, "pack", no_dlpack)
    q = rand(1, 5, 1, 16)
    with torch.no_grad():
        out = tileattn.flash_attn_func(q, q, q)
    assert out.shape == q.shape and out.dtype == q.dtype


def test_a_bad_shape_is_the_cpp_value_error_and_nothing_is_written(monkeypatch):
    """On the fast path the C++ validation runs before anything is launched: dq stays untouched."""
    monkeypatch.setattr(_dlpack, "pack", no_dlpack)
    q, k, v = rand(1, 6, 2, 16), rand(1, 6, 2, 16), rand(1, 6, 2, 16)
    out, lse, _ = tileattn.flash_attn_func(q, k, v, return_attn_probs=True)
    dq, dk, bad_dv = torch.full_like(q, 7.0), torch.full_like(k, 7.0), torch.full_like(v[:, :5], 7.0)
    o = (None, False, (-1, -1), 0.0, None, False)
    with pytest.raises(ValueError, match=r"^dv: "):
        _ops.run("tileattn_bwd", q, (torch.ones_like(out), q, k, v, out, lse, dq, dk, bad_dv), o)
    assert bool((dq == 7.0).all()) and bool((dk == 7.0).all())
    with pytest.raises(ValueError, match=r"\bv\b"):
        tileattn.flash_attn_func(q, k, v[:, :5])
    with pytest.raises(ValueError, match="window"):
        tileattn.flash_attn_func(q, k, v, window_size=(-5, 0))


def test_what_the_fast_path_does_not_take_gets_the_dlpack_paths_errors():
    q = rand(1, 6, 2, 16)
    with pytest.raises(TypeError, match="k: expected dtype"):
        tileattn.flash_attn_func(q, q.to(torch.complex64), q)
    with pytest.raises(ValueError, match="window_size: expected"):
        tileattn.flash_attn_func(q, q, q, window_size=(1, 2, 3))
    with pytest.raises(TypeError, match="v: expected a torch.Tensor like q"):
        tileattn.flash_attn_func(q, q, q.float().numpy())


def test_unusual_argument_types_fall_back_to_the_same_result(monkeypatch):
    """A tensor of more than 8 dims, a window of floats, a huge max_seqlen: not taken by the
    extension (NotImplemented), served by the DLPack path as before."""
    q = rand(1, 6, 2, 16)
    reference = tileattn.flash_attn_func(q, q, q, window_size=(2, 1))
    assert torch.equal(tileattn.flash_attn_func(q, q, q, window_size=(2.0, 1.0)), reference)
    ext, lib = _fast.extension(), _fast._bound["cpu"]
    o = (None, False, (-1, -1), 0.0, None, False)
    nine_dims = torch.zeros((1,) * 9, dtype=torch.bfloat16)
    assert ext.call(lib, 0, (nine_dims, q, q, q, q), o, None) is NotImplemented
    assert ext.call(lib, 0, (np.zeros(3), q, q, q, q), o, None) is NotImplemented
    varlen = _fast._index["tileattn_fwd_varlen"]
    t = q[0]
    assert ext.call(lib, varlen, (t, t, t, CU_Q, CU_K, 2 ** 40, 6, t, t), o, None) is NotImplemented


def test_strided_views_and_numpy_still_work(monkeypatch):
    torch.manual_seed(3)
    qkv = rand(B, SK, 3, H, D)
    packed = tileattn.flash_attn_qkvpacked_func(qkv)
    views = tileattn.flash_attn_func(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2])
    assert torch.equal(packed, views)
    half = qkv.to(torch.float16)
    out_np = tileattn.flash_attn_qkvpacked_func(half.numpy())
    monkeypatch.setattr(_fast, "enabled", False)
    assert np.array_equal(out_np, tileattn.flash_attn_qkvpacked_func(half).numpy())
