"""A plain PyTorch attention reference and flash-attn's accuracy rule, for tileattn's tests (CI
on the CPU, pytest on the GPU machine). Mirrors attention/reference and
attention/reference/accuracy.h: for T in out, dq, dk, dv

    max|T_kernel - T_ref64| <= k * max|T_naive - T_ref64| + 2 * max|round_dtype(T_ref64) - T_ref64|

with k = 2 for out and 3 for gradients; T_ref64 is the reference in float64 and T_naive the same
computation in the inputs' dtype (each step rounded, matmuls accumulated in float32)."""

import math

import torch


def attention_ref(q, k, v, softmax_scale=None, causal=False, window_size=(-1, -1), softcap=0.0, alibi_slopes=None,
                  dtype=None):
    """Attention of q (b, sq, h, d), k (b, sk, hk, d), v (b, sk, hk, dv) -> (out, lse (b, h, sq)).
    dtype None: in float64 (the reference). dtype set: in float32 with every step rounded to
    `dtype` (the naive reference); autograd flows through (gradients are rounded likewise)."""
    compute = torch.float64 if dtype is None else torch.float32
    r = (lambda x: x.to(dtype).to(compute)) if dtype is not None else (lambda x: x)
    b, sq, h, d = q.shape
    sk, hk = k.shape[1], k.shape[2]
    scale = softmax_scale if softmax_scale is not None else 1.0 / math.sqrt(d)
    qc, kc, vc = q.to(compute), k.to(compute), v.to(compute)
    kc = kc.repeat_interleave(h // hk, dim=2)
    vc = vc.repeat_interleave(h // hk, dim=2)
    s = r(torch.einsum("bqhd,bkhd->bhqk", qc, kc) * scale)
    if softcap > 0:
        s = r(softcap * torch.tanh(s / softcap))
    rows = torch.arange(sq, device=q.device)[:, None]
    cols = torch.arange(sk, device=q.device)[None, :]
    rel = cols - (rows + sk - sq)  # key position relative to the bottom-right aligned query
    if alibi_slopes is not None:
        slopes = alibi_slopes.to(compute)
        slopes = slopes.reshape(1, h, 1, 1) if slopes.dim() == 1 else slopes.reshape(b, h, 1, 1)
        s = r(s - slopes * rel.abs().to(compute))
    left, right = window_size
    if causal:
        right = 0
    masked = torch.zeros(sq, sk, dtype=torch.bool, device=q.device)
    if left >= 0:
        masked |= rel < -left
    if right >= 0:
        masked |= rel > right
    empty_row = masked.all(dim=-1, keepdim=True)  # no key: out = 0, lse = -inf
    s = s.masked_fill(masked, float("-inf")).masked_fill(empty_row, 0.0)
    lse = torch.logsumexp(s, dim=-1).masked_fill(empty_row[:, 0], float("-inf"))
    p = r(torch.softmax(s, dim=-1).masked_fill(empty_row, 0.0))
    out = r(torch.einsum("bhqk,bkhd->bqhd", p, vc))
    return out, lse


def varlen_ref(q, k, v, cu_q, cu_k, **kw):
    """attention_ref per sequence of a varlen batch: q (total_q, h, d) ... -> (out, lse (h, total_q)).
    An ALiBi slopes tensor of shape (batch, h) gives each sequence its row."""
    outs, lses = [], []
    alibi = kw.pop("alibi_slopes", None)
    for i in range(len(cu_q) - 1):
        a, z, c, e = int(cu_q[i]), int(cu_q[i + 1]), int(cu_k[i]), int(cu_k[i + 1])
        slopes = None if alibi is None else (alibi[i] if alibi.dim() == 2 else alibi)
        o, l = attention_ref(q[None, a:z], k[None, c:e], v[None, c:e], alibi_slopes=slopes, **kw)
        outs.append(o[0])
        lses.append(l[0])
    return torch.cat(outs, 0), torch.cat(lses, 1)


def max_abs_diff(a, b):
    if a.numel() == 0:
        return 0.0
    return (a.to(torch.float64) - b.to(torch.float64)).abs().max().item()


def accuracy_bound(naive, ref64, dtype, k):
    """The largest error the rule allows: k * naive error + 2 * rounding error of the reference."""
    return k * max_abs_diff(naive, ref64) + 2 * max_abs_diff(ref64.to(dtype), ref64)


def check_accuracy(name, kernel, naive, ref64, k):
    """Raises AssertionError (with the three errors) when `kernel` breaks the accuracy rule."""
    if torch.isnan(kernel).any() and not torch.isnan(ref64).any():
        raise AssertionError(f"{name}: NaN where the reference has none")
    err = max_abs_diff(kernel, ref64)
    bound = accuracy_bound(naive, ref64, kernel.dtype, k)
    if not err <= bound:
        raise AssertionError(f"{name}: max|kernel - ref64| = {err:.3g} > bound {bound:.3g} "
                             f"({k} x naive error {max_abs_diff(naive, ref64):.3g} + 2 x rounding)")
    return err, bound


def check_lse(kernel_lse, ref_lse, tol=1e-3):
    """softmax_lse is float32 in both: equal -inf where a row sees no key, close elsewhere."""
    ref = ref_lse.to(torch.float32)
    if not torch.equal(torch.isinf(kernel_lse), torch.isinf(ref)):
        raise AssertionError("softmax_lse: -inf rows differ from the reference")
    finite = torch.isfinite(ref)
    err = max_abs_diff(kernel_lse[finite], ref[finite])
    if not err <= tol:
        raise AssertionError(f"softmax_lse: max diff {err:.3g} > {tol}")


class TinyModel(torch.nn.Module):
    """Two attention layers (q/k/v/out projections in float32, attention in `dtype`) and a head:
    the training-step tests run one step of it with each attention to compare."""

    def __init__(self, width=32, heads=2, dtype=torch.bfloat16):
        super().__init__()
        self.heads, self.dtype = heads, dtype
        self.qkv = torch.nn.ModuleList(torch.nn.Linear(width, 3 * width) for _ in range(2))
        self.proj = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(2))
        self.head = torch.nn.Linear(width, 1)

    def forward(self, x, attention):
        b, s, w = x.shape
        for qkv, proj in zip(self.qkv, self.proj):
            q, k, v = qkv(x).reshape(b, s, 3, self.heads, w // self.heads).to(self.dtype).unbind(2)
            x = x + proj(attention(q, k, v).reshape(b, s, w).float())
        return self.head(x).mean()


def step_gradients(model, x, attention):
    """(loss, [each parameter's gradient]) of one forward and backward of `model` with `attention`."""
    model.zero_grad()
    loss = model(x, attention)
    loss.backward()
    return loss.detach(), [p.grad.detach().clone() for p in model.parameters()]
