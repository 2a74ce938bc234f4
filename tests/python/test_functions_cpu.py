"""Forward and backward of each flash-attn function on the CPU library (the tile interpreter),
at small ragged shapes, against a plain PyTorch reference with flash-attn's accuracy rule."""

import pytest
import torch

import tileattn
from tileattn.testing import attention_ref, check_accuracy, check_lse, varlen_ref

B, SQ, SK, H, HK, D, DV = 2, 7, 13, 2, 1, 24, 40  # ragged: nothing a multiple of a tile size


def leaves(*tensors, dtype=None):
    return [t.detach().to(dtype or t.dtype).clone().requires_grad_(True) for t in tensors]


def grads_of(out, inputs, dout):
    return torch.autograd.grad(out, inputs, dout)


def check_fwd_bwd(run_kernel, run_ref, inputs, dtype, ref_lse_of=None):
    """Runs kernel / fp64 reference / naive (dtype) on copies of `inputs`, checks out and every
    gradient with the accuracy rule, and softmax_lse against the fp64 one."""
    k_in, r_in, n_in = leaves(*inputs), leaves(*inputs, dtype=torch.float64), leaves(*inputs)
    out, lse, probs = run_kernel(*k_in)
    assert probs is None
    ref_out, ref_lse = run_ref(*r_in, dtype=None)
    naive_out, _ = run_ref(*n_in, dtype=dtype)
    check_accuracy("out", out, naive_out, ref_out, 2)
    check_lse(lse, ref_lse)
    dout = torch.randn_like(out)
    for i, (g, gr, gn) in enumerate(zip(grads_of(out, k_in, dout), grads_of(ref_out, r_in, dout.double()),
                               grads_of(naive_out, n_in, dout.float()))):
        check_accuracy(f"gradient of input {i}", g, gn, gr, 3)


@pytest.mark.parametrize("dtype,causal", [(torch.bfloat16, True), (torch.float16, False)])
def test_flash_attn_func_gqa_head_dim_v(dtype, causal):
    torch.manual_seed(0)
    q, k, v = torch.randn(B, SQ, H, D, dtype=dtype), torch.randn(B, SK, HK, D, dtype=dtype), torch.randn(B, SK, HK, DV, dtype=dtype)
    check_fwd_bwd(lambda q, k, v: tileattn.flash_attn_func(q, k, v, causal=causal, return_attn_probs=True),
                  lambda q, k, v, dtype: attention_ref(q, k, v, causal=causal, dtype=dtype), [q, k, v], dtype)


def test_flash_attn_func_options():
    torch.manual_seed(1)
    dtype = torch.bfloat16
    q, k, v = torch.randn(B, SQ, H, D, dtype=dtype), torch.randn(B, SK, H, D, dtype=dtype), torch.randn(B, SK, H, D, dtype=dtype)
    slopes = torch.rand(B, H, dtype=torch.float32)
    opts = dict(softmax_scale=0.3, window_size=(4, 2), softcap=5.0)
    check_fwd_bwd(lambda q, k, v: tileattn.flash_attn_func(q, k, v, alibi_slopes=slopes, deterministic=True,
                                                           return_attn_probs=True, **opts),
                  lambda q, k, v, dtype: attention_ref(q, k, v, alibi_slopes=slopes, dtype=dtype, **opts), [q, k, v], dtype)


def test_flash_attn_qkvpacked_func():
    torch.manual_seed(2)
    dtype = torch.bfloat16
    qkv = torch.randn(B, SK, 3, H, D, dtype=dtype)
    check_fwd_bwd(lambda qkv: tileattn.flash_attn_qkvpacked_func(qkv, causal=True, return_attn_probs=True),
                  lambda qkv, dtype: attention_ref(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], causal=True, dtype=dtype),
                  [qkv], dtype)


def test_flash_attn_kvpacked_func():
    torch.manual_seed(3)
    dtype = torch.float16
    q, kv = torch.randn(B, SQ, H, D, dtype=dtype), torch.randn(B, SK, 2, HK, D, dtype=dtype)
    check_fwd_bwd(lambda q, kv: tileattn.flash_attn_kvpacked_func(q, kv, return_attn_probs=True),
                  lambda q, kv, dtype: attention_ref(q, kv[:, :, 0], kv[:, :, 1], dtype=dtype), [q, kv], dtype)


CU_Q = torch.tensor([0, 3, 3, 11], dtype=torch.int32)  # one empty sequence
CU_K = torch.tensor([0, 5, 6, 19], dtype=torch.int32)


def test_flash_attn_varlen_func():
    torch.manual_seed(4)
    dtype = torch.bfloat16
    tq, tk = int(CU_Q[-1]), int(CU_K[-1])
    q, k, v = torch.randn(tq, H, D, dtype=dtype), torch.randn(tk, HK, D, dtype=dtype), torch.randn(tk, HK, DV, dtype=dtype)
    mq, mk = 8, 13
    check_fwd_bwd(lambda q, k, v: tileattn.flash_attn_varlen_func(q, k, v, CU_Q, CU_K, mq, mk, causal=True,
                                                                  return_attn_probs=True),
                  lambda q, k, v, dtype: varlen_ref(q, k, v, CU_Q, CU_K, causal=True, dtype=dtype), [q, k, v], dtype)


def test_flash_attn_varlen_qkvpacked_func():
    torch.manual_seed(5)
    dtype = torch.float16
    cu = CU_K
    qkv = torch.randn(int(cu[-1]), 3, H, D, dtype=dtype)
    check_fwd_bwd(lambda qkv: tileattn.flash_attn_varlen_qkvpacked_func(qkv, cu, 13, window_size=(3, 0),
                                                                        return_attn_probs=True),
                  lambda qkv, dtype: varlen_ref(qkv[:, 0], qkv[:, 1], qkv[:, 2], cu, cu, window_size=(3, 0), dtype=dtype),
                  [qkv], dtype)


def test_default_return_is_out_only():
    q = torch.randn(1, 5, 1, 16, dtype=torch.bfloat16)
    out = tileattn.flash_attn_func(q, q, q)
    assert isinstance(out, torch.Tensor) and out.shape == q.shape


def test_a_wrong_result_is_caught():
    """The checks can fail: a kernel run with another softmax_scale than the reference's breaks
    the accuracy rule."""
    torch.manual_seed(6)
    dtype = torch.bfloat16
    q, k, v = torch.randn(B, SQ, H, D, dtype=dtype), torch.randn(B, SK, H, D, dtype=dtype), torch.randn(B, SK, H, D, dtype=dtype)
    with pytest.raises(AssertionError, match="out: max"):
        check_fwd_bwd(lambda q, k, v: tileattn.flash_attn_func(q, k, v, softmax_scale=0.21, return_attn_probs=True),
                      lambda q, k, v, dtype: attention_ref(q, k, v, softmax_scale=0.2, dtype=dtype), [q, k, v], dtype)
