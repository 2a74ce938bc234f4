"""Bad input gives ValueError/TypeError with the C++ message naming the argument, and nothing
runs; NumPy arrays work on the CPU; the package reports its version and library."""

import numpy as np
import pytest
import torch

import tileattn
from tileattn import _library
from tileattn.testing import attention_ref, check_accuracy


def qkv(dtype=torch.bfloat16, b=1, s=6, h=2, d=16):
    torch.manual_seed(0)
    return [torch.randn(b, s, h, d, dtype=dtype) for _ in range(3)]


def test_version_and_library():
    assert tileattn.__version__ == "0.1.0"
    assert _library.library("cpu").tileattn_backend_name() == b"interp"


def test_float32_inputs_are_rejected_with_the_cpp_message():
    q, k, v = qkv(torch.float32)
    with pytest.raises(ValueError, match=r"\bq\b.*(f16|bf16|float16|bfloat16)"):
        tileattn.flash_attn_func(q, k, v)


def test_unsupported_dtype_is_a_type_error():
    q, k, v = qkv()
    with pytest.raises(TypeError, match="k: expected dtype"):
        tileattn.flash_attn_func(q, k.to(torch.complex64), v)


def test_mismatched_shape_names_the_argument():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"\bv\b"):
        tileattn.flash_attn_func(q, k, v[:, :5])


def test_mixed_dtypes_name_the_argument():
    q, k, v = qkv()
    with pytest.raises(ValueError, match=r"\bk\b"):
        tileattn.flash_attn_func(q, k.half(), v)


def test_not_a_tensor_is_a_type_error():
    q, k, v = qkv()
    with pytest.raises(TypeError, match="expected a torch.Tensor or numpy.ndarray"):
        tileattn.flash_attn_func(q.tolist(), k, v)


def test_bad_window_and_cu_seqlens():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="window"):
        tileattn.flash_attn_func(q, k, v, window_size=(-5, 0))
    t = [x[0] for x in (q, k, v)]
    with pytest.raises(ValueError, match="cu_seqlens_q"):
        tileattn.flash_attn_varlen_func(*t, torch.tensor([0, 9], dtype=torch.int32),
                                        torch.tensor([0, 6], dtype=torch.int32), 9, 6)


def test_dropout_is_refused():
    q, k, v = qkv()
    with pytest.raises(ValueError, match="dropout_p"):
        tileattn.flash_attn_func(q, k, v, dropout_p=0.1)


def test_rejected_backward_writes_nothing():
    """A gradient of the wrong shape is caught before the backward runs: dq stays untouched."""
    q, k, v = qkv()
    lib = _library.library("cpu")
    out, lse, _ = tileattn.flash_attn_func(q, k, v, return_attn_probs=True)
    dq, dk, dv = [torch.full_like(x, 7.0) for x in (q, k, v)]
    bad_dv = torch.full_like(v[:, :5], 7.0)
    from tileattn import _dlpack
    named = [(n, x) for n, x in zip(["dout", "q", "k", "v", "out", "softmax_lse", "dq", "dk", "dv"],
                                    [torch.ones_like(out), q, k, v, out, lse, dq, dk, bad_dv])]
    buf, addresses = _dlpack.pack(named)
    o = _library.make_options(None, False, (-1, -1), 0.0, None, False)
    with pytest.raises(ValueError, match="dv"):
        _library.call(lib, "tileattn_bwd", *addresses, o, None)
    assert bool((dq == 7.0).all()) and bool((dk == 7.0).all())


def test_numpy_float16_inputs():
    q, k, v = [x.half() for x in qkv(torch.float32)]
    out_np, lse_np, probs = tileattn.flash_attn_func(q.numpy(), k.numpy(), v.numpy(), causal=True,
                                                     return_attn_probs=True)
    assert isinstance(out_np, np.ndarray) and out_np.dtype == np.float16 and probs is None
    assert lse_np.dtype == np.float32 and lse_np.shape == (1, 2, 6)
    ref, _ = attention_ref(q, k, v, causal=True)
    naive, _ = attention_ref(q, k, v, causal=True, dtype=torch.float16)
    check_accuracy("out", torch.from_numpy(out_np), naive, ref, 2)


def test_numpy_packed_and_strided_inputs():
    q, k, v = [x.half() for x in qkv(torch.float32)]
    packed = np.ascontiguousarray(np.stack([q.numpy(), k.numpy(), v.numpy()], axis=2))
    out = tileattn.flash_attn_qkvpacked_func(packed)
    ref, _ = attention_ref(q, k, v)
    naive, _ = attention_ref(q, k, v, dtype=torch.float16)
    check_accuracy("out", torch.from_numpy(out), naive, ref, 2)
    # Views into the packed array (strided, not contiguous) through flash_attn_func.
    out2 = tileattn.flash_attn_func(packed[:, :, 0], packed[:, :, 1], packed[:, :, 2])
    assert np.array_equal(out, out2)
