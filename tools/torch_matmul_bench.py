"""Times torch.matmul on bf16 square matrices (the baseline for tools/gemm_bench on the same card).

CUDA events, warm-up, median of the timed calls, fresh random inputs per size.
    python3 tools/torch_matmul_bench.py [--sizes 4096,8192] [--warmup 10] [--iters 50]
"""
import argparse

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4096,8192")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iters", type=int, default=50)
    args = parser.parse_args()
    print(f"device {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    for n in [int(s) for s in args.sizes.split(",")]:
        a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        for _ in range(args.warmup):
            torch.matmul(a, b)
        times = []
        for _ in range(args.iters):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            torch.matmul(a, b)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        times.sort()
        median = times[len(times) // 2]
        tflops = 2.0 * n**3 / (median * 1e-3) / 1e12
        print(f"torch_matmul_bf16 {n}^3: median {median:.4f} ms (min {times[0]:.4f}, "
              f"max {times[-1]:.4f}) = {tflops:.1f} TFLOP/s (bf16 out)")


if __name__ == "__main__":
    main()
