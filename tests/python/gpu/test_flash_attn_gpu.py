"""tileattn on the H100 in flash-attn's style (tests/test_flash_attn.py): a torch reference,
the accuracy rule, flash-attn's (seqlen_q, seqlen_k) pairs. Needs a GPU, PyTorch with CUDA and
libtileattn_gpu.so (tools/make_gpu_bundle.sh puts it into gpu_bundle/python/tileattn/lib):

    PYTHONPATH=gpu_bundle/python python3 -m pytest -q gpu_bundle/python/tests/test_flash_attn_gpu.py
"""

import os

import pytest
import torch

import tileattn
from tileattn.testing import attention_ref, check_accuracy, check_lse, varlen_ref

# TILEATTN_TEST_DEVICE=cpu runs the module on the CPU library (the interpreter: slow, for
# checking the module itself on a machine without a GPU, e.g. with -k varlen).
DEVICE = os.environ.get("TILEATTN_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(), reason="needs a CUDA GPU")

# flash-attn 2.6.3's test_flash_attn_output pairs.
SEQLEN_PAIRS = [(113, 203), (128, 217), (113, 211), (108, 256), (256, 512), (512, 256), (1024, 1024),
                (1023, 1024), (1024, 1023), (2048, 2048)]


def run_and_check(kernel, reference, inputs, dtype):
    k_in = [x.detach().clone().requires_grad_(True) for x in inputs]
    r_in = [x.detach().double().requires_grad_(True) for x in inputs]
    n_in = [x.detach().clone().requires_grad_(True) for x in inputs]
    out, lse, _ = kernel(*k_in)
    ref, ref_lse = reference(*r_in, dtype=None)
    naive, _ = reference(*n_in, dtype=dtype)
    check_accuracy("out", out, naive, ref, 2)
    check_lse(lse, ref_lse)
    dout = torch.randn_like(out)
    gk = torch.autograd.grad(out, k_in, dout)
    gr = torch.autograd.grad(ref, r_in, dout.double())
    gn = torch.autograd.grad(naive, n_in, dout.float())
    for i, (a, b, c) in enumerate(zip(gk, gr, gn)):
        check_accuracy(f"gradient of input {i}", a, c, b, 3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 96, 128, 256])
@pytest.mark.parametrize("seqlen_q,seqlen_k", SEQLEN_PAIRS)
@pytest.mark.parametrize("mha_type", ["mha", "gqa"])
def test_flash_attn_output(seqlen_q, seqlen_k, d, causal, dtype, mha_type):
    torch.manual_seed(0)
    b, h = 4, 6
    hk = h if mha_type == "mha" else 2
    q = torch.randn(b, seqlen_q, h, d, device=DEVICE, dtype=dtype)
    k = torch.randn(b, seqlen_k, hk, d, device=DEVICE, dtype=dtype)
    v = torch.randn(b, seqlen_k, hk, d, device=DEVICE, dtype=dtype)
    run_and_check(lambda q, k, v: tileattn.flash_attn_func(q, k, v, causal=causal, return_attn_probs=True),
                  lambda q, k, v, dtype: attention_ref(q, k, v, causal=causal, dtype=dtype), [q, k, v], dtype)


@pytest.mark.parametrize("seqlen", [97, 128, 200, 384, 768, 1024, 1025, 2048])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("d", [64, 128])
def test_flash_attn_qkvpacked(seqlen, d, causal):
    torch.manual_seed(0)
    dtype = torch.bfloat16
    qkv = torch.randn(4, seqlen, 3, 6, d, device=DEVICE, dtype=dtype)
    run_and_check(lambda qkv: tileattn.flash_attn_qkvpacked_func(qkv, causal=causal, return_attn_probs=True),
                  lambda qkv, dtype: attention_ref(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], causal=causal, dtype=dtype),
                  [qkv], dtype)


@pytest.mark.parametrize("seqlen_q,seqlen_k", SEQLEN_PAIRS[:6])
@pytest.mark.parametrize("causal", [False, True])
def test_flash_attn_kvpacked_options(seqlen_q, seqlen_k, causal):
    torch.manual_seed(0)
    dtype = torch.float16
    q = torch.randn(2, seqlen_q, 4, 128, device=DEVICE, dtype=dtype)
    kv = torch.randn(2, seqlen_k, 2, 2, 128, device=DEVICE, dtype=dtype)
    slopes = torch.rand(2, 4, device=DEVICE, dtype=torch.float32)
    opts = dict(causal=causal, window_size=(64, 32) if not causal else (-1, -1), softcap=30.0)
    run_and_check(lambda q, kv: tileattn.flash_attn_kvpacked_func(q, kv, alibi_slopes=slopes, return_attn_probs=True, **opts),
                  lambda q, kv, dtype: attention_ref(q, kv[:, :, 0], kv[:, :, 1], alibi_slopes=slopes, dtype=dtype, **opts),
                  [q, kv], dtype)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("deterministic", [False, True])
def test_flash_attn_varlen(causal, deterministic):
    torch.manual_seed(0)
    dtype = torch.bfloat16
    lens_q, lens_k = [113, 0, 256, 1], [203, 5, 256, 77]
    cu_q = torch.tensor([0] + list(torch.tensor(lens_q).cumsum(0)), dtype=torch.int32, device=DEVICE)
    cu_k = torch.tensor([0] + list(torch.tensor(lens_k).cumsum(0)), dtype=torch.int32, device=DEVICE)
    q = torch.randn(sum(lens_q), 4, 128, device=DEVICE, dtype=dtype)
    k = torch.randn(sum(lens_k), 4, 128, device=DEVICE, dtype=dtype)
    v = torch.randn(sum(lens_k), 4, 128, device=DEVICE, dtype=dtype)
    run_and_check(lambda q, k, v: tileattn.flash_attn_varlen_func(q, k, v, cu_q, cu_k, max(lens_q), max(lens_k),
                                                                  causal=causal, deterministic=deterministic,
                                                                  return_attn_probs=True),
                  lambda q, k, v, dtype: varlen_ref(q, k, v, cu_q.cpu(), cu_k.cpu(), causal=causal, dtype=dtype),
                  [q, k, v], dtype)


def test_flash_attn_varlen_qkvpacked():
    torch.manual_seed(0)
    dtype = torch.float16
    cu = torch.tensor([0, 100, 356, 357], dtype=torch.int32, device=DEVICE)
    qkv = torch.randn(357, 3, 4, 64, device=DEVICE, dtype=dtype)
    run_and_check(lambda qkv: tileattn.flash_attn_varlen_qkvpacked_func(qkv, cu, 256, causal=True, return_attn_probs=True),
                  lambda qkv, dtype: varlen_ref(qkv[:, 0], qkv[:, 1], qkv[:, 2], cu.cpu(), cu.cpu(), causal=True, dtype=dtype),
                  [qkv], dtype)


@pytest.mark.skipif(DEVICE != "cuda", reason="streams are CUDA's")
def test_runs_on_the_current_stream():
    """Work is ordered on torch's current stream: a result read on that stream is complete."""
    torch.manual_seed(0)
    q = torch.randn(2, 1024, 8, 128, device=DEVICE, dtype=torch.bfloat16)
    expected = tileattn.flash_attn_func(q, q, q)
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        out = tileattn.flash_attn_func(q, q, q)
        same = torch.equal(out, expected)
    assert same


@pytest.mark.skipif(DEVICE != "cuda", reason="needs two devices")
def test_cpu_tensor_and_cuda_tensor_mixed_is_an_error():
    q = torch.randn(1, 8, 2, 64, device=DEVICE, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match=r"\bk\b"):
        tileattn.flash_attn_func(q, q.cpu(), q)


def _sdpa(q, k, v):
    # SDPA takes (batch, heads, seq, dim).
    t = lambda x: x.transpose(1, 2)
    return t(torch.nn.functional.scaled_dot_product_attention(t(q), t(k), t(v), is_causal=True))


def _reference(q, k, v):
    return attention_ref(q, k, v, causal=True, dtype=None)[0].to(q.dtype)


@pytest.mark.skipif(DEVICE != "cuda", reason="SDPA's kernels are the comparison")
def test_training_step_matches_sdpa():
    """A training step with tileattn attention against the same step with SDPA: each parameter
    gradient within flash-attn's rule, where SDPA's own error against the float64 attention
    is the naive term."""
    from tileattn.testing import TinyModel, accuracy_bound, max_abs_diff, step_gradients
    torch.manual_seed(0)
    model = TinyModel(width=256).to(DEVICE)
    x = torch.randn(2, 333, 256, device=DEVICE)
    loss_t, grads_t = step_gradients(model, x, lambda q, k, v: tileattn.flash_attn_func(q, k, v, causal=True))
    loss_s, grads_s = step_gradients(model, x, _sdpa)
    loss_r, grads_r = step_gradients(model, x, _reference)
    assert abs(loss_t - loss_r) <= 2 * abs(loss_s - loss_r) + 1e-3
    for i, (gt, gs, gr) in enumerate(zip(grads_t, grads_s, grads_r)):
        err, bound = max_abs_diff(gt, gr), accuracy_bound(gs, gr, torch.bfloat16, 3)
        assert err <= bound, f"parameter {i}: max|tileattn - ref| = {err:.3g} > bound {bound:.3g} (SDPA's error as naive)"



@pytest.mark.skipif(DEVICE != "cuda", reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("deterministic", [False, True])
def test_forward_backward_captured_in_a_cuda_graph(deterministic):
    # A forward+backward captured once and replayed on new inputs copied into the captured
    # tensors gives what an eager call on those inputs gives: no host synchronisation, no
    # device allocation outside torch's graph-aware allocator, nothing computed at capture
    # time that depends on the inputs' values.
    torch.manual_seed(0)
    shape, dtype = (2, 300, 4, 128), torch.bfloat16
    q, k, v = (torch.randn(shape, device=DEVICE, dtype=dtype, requires_grad=True) for _ in range(3))
    dout = torch.randn(shape, device=DEVICE, dtype=dtype)

    def step():
        out = tileattn.flash_attn_func(q, k, v, causal=True, deterministic=deterministic)
        out.backward(dout)
        return out

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the capture stream, as torch asks
        for _ in range(2):
            step()
    torch.cuda.current_stream().wait_stream(side)
    for x in (q, k, v):
        x.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = step()
    new = [torch.randn(shape, device=DEVICE, dtype=dtype) for _ in range(3)]
    new_dout = torch.randn(shape, device=DEVICE, dtype=dtype)
    with torch.no_grad():
        for x, n in zip((q, k, v), new):
            x.copy_(n)
        dout.copy_(new_dout)
        for x in (q, k, v):
            x.grad.zero_()
    graph.replay()
    torch.cuda.synchronize()
    e_in = [n.clone().requires_grad_(True) for n in new]
    e_out = tileattn.flash_attn_func(*e_in, causal=True, deterministic=deterministic)
    e_out.backward(new_dout)
    torch.testing.assert_close(out, e_out, rtol=0, atol=0)  # the forward is deterministic
    tol = 0 if deterministic else 2e-2  # atomic dQ adds in any order
    for x, e in zip((q, k, v), e_in):
        torch.testing.assert_close(x.grad, e.grad, rtol=tol, atol=tol)
