"""A training step of a tiny two-layer attention model with tileattn.flash_attn_func matches the
same step with a plain softmax attention, under flash-attn's accuracy rule (rounding of the
step's parameter gradients taken at the attention's dtype)."""

import torch

import tileattn
from tileattn.testing import TinyModel, accuracy_bound, attention_ref, max_abs_diff, step_gradients

DTYPE = torch.bfloat16


def tileattn_attention(q, k, v):
    return tileattn.flash_attn_func(q, k, v, causal=True)


def plain_attention(dtype):
    def attend(q, k, v):
        return attention_ref(q, k, v, causal=True, dtype=dtype).__getitem__(0).to(q.dtype)
    return attend


def test_training_step_matches_plain_attention():
    torch.manual_seed(0)
    model = TinyModel()
    x = torch.randn(2, 11, 32)
    loss_k, grads_k = step_gradients(model, x, tileattn_attention)
    loss_n, grads_n = step_gradients(model, x, plain_attention(DTYPE))
    # The fp64 reference attention, its output still handed back in bf16 like the others'.
    loss_r, grads_r = step_gradients(model, x, plain_attention(None))
    assert abs(loss_k - loss_r) <= 2 * abs(loss_n - loss_r) + 1e-3
    for i, (gk, gn, gr) in enumerate(zip(grads_k, grads_n, grads_r)):
        err, bound = max_abs_diff(gk, gr), accuracy_bound(gn, gr, DTYPE, 3)
        assert err <= bound, f"parameter {i}: max|tileattn - ref| = {err:.3g} > bound {bound:.3g}"
    # The optimiser step moves the parameters the same way.
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    for p, g in zip(model.parameters(), grads_k):
        p.grad = g
    opt.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
