"""PyTorch SDPA (FLASH_ATTENTION and CUDNN_ATTENTION backends) on the seed's shapes, timed like
flash_attn_bench (CUDA events, warm-up, median), for ratios measured in the same device call."""
import argparse

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", default="2x4096")
    p.add_argument("--nheads", type=int, default=16)
    p.add_argument("--head_size", type=int, default=128)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=20)
    a = p.parse_args()
    print("| backend | causal | fwd_only | B | S | ms | TFLOPS |")
    print("|---|---|---|---|---|---|---|")
    for case in a.cases.split(","):
        b, s = map(int, case.split("x"))
        q, k, v = (torch.rand(b, a.nheads, s, a.head_size, device="cuda", dtype=torch.bfloat16, requires_grad=True) * 2 - 1
                   for _ in range(3))
        q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
        dout = torch.rand_like(q)
        for causal in (True, False):
            for fwd_only in (True, False):
                for name, be in (("FA2", SDPBackend.FLASH_ATTENTION), ("cuDNN", SDPBackend.CUDNN_ATTENTION)):
                    def step():
                        with sdpa_kernel(be):
                            o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
                            if not fwd_only:
                                o.backward(dout)
                    ms = time_ms(step, a.warmup, a.iters)
                    flops = 4 * b * s * s * a.nheads * a.head_size * (0.5 if causal else 1) * (1 if fwd_only else 3.5)
                    print(f"| {name} | {int(causal)} | {int(fwd_only)} | {b} | {s} | {ms:.3f} | {flops / ms / 1e9:.1f} |")


if __name__ == "__main__":
    main()
