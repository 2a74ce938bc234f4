#!/usr/bin/env python3
"""flash-attn's benchmark (the seed's benchmark_qkvpacked_func.py) through the Python package:
tileattn.flash_attn_qkvpacked_func on a CUDA tensor, timed with CUDA events, the seed's table.

    PYTHONPATH=gpu_bundle/python python3 gpu_bundle/python/benchmarks/benchmark_flash_attn.py \
        --batch_size 2 --seq_len 4096 --nheads 16 --head_size 128 --causal --fwd_only [--profile]

Measured like //bench:flash_attn (bench/README.md): fresh uniform(-1, 1) inputs, `--warmup`
untimed iterations, a 256 MiB fill before each timed iteration to evict L2 (outside the timed
region), then a 1 ms GPU-side wait (torch.cuda._sleep) that lets the host enqueue the iteration
before the start event, CUDA events around each iteration, the median of `--iters`. Forward+backward is one
forward and torch.autograd.grad of it. Peak memory: torch.cuda.max_memory_allocated during the
case (MB = 2^20). TFLOPS = 4*B*S^2*H*D, x0.5 causal, x3.5 forward+backward. --profile writes a
torch.profiler Chrome trace of one iteration to --out_dir and prints its kernels.
"""

import argparse
import os
import statistics
import sys

TABLE_HEADER = ("| batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) "
                "| peak memory(MB/device) | speed(TFLOPS) |")
L2_FLUSH_BYTES = 256 << 20
HOST_HEAD_START_CYCLES = 2_000_000  # about 1 ms at the H100's 1.98 GHz


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch_size", type=int, default=2)
    p.add_argument("--seq_len", type=int, default=4096)
    p.add_argument("--nheads", type=int, default=16)
    p.add_argument("--head_size", type=int, default=128)
    p.add_argument("--fwd_only", action="store_true")
    p.add_argument("--causal", action="store_true")
    p.add_argument("--profile", action="store_true")
    p.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--out_dir", default=".")
    p.add_argument("--python_overhead", action="store_true",
                   help="instead of the table: host time per call of tileattn.flash_attn_func at a tiny shape "
                        "(fast path, then DLPack path) minus that of the same C call with its arguments prepared "
                        "once (the C++ API's own cost)")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda",
                   help="with --python_overhead: cpu times CPU tensors on the CPU library; point "
                        "$TILEATTN_CPU_LIBRARY at libtileattn_noop.so (python/benchmarks) to time the Python layer alone")
    p.add_argument("--calls", type=int, default=2000, help="with --python_overhead: calls per timed round")
    p.add_argument("--rounds", type=int, default=5,
                   help="with --python_overhead: rounds, each variant in turn; the fastest round counts")
    a = p.parse_args(argv)
    for name in ("batch_size", "seq_len", "nheads", "head_size", "iters", "calls", "rounds"):
        if getattr(a, name) < 1:
            p.error(f"--{name}: expected a positive integer, got {getattr(a, name)}")
    if a.warmup < 1:
        p.error(f"--warmup: expected at least 1 (it loads the kernels), got {a.warmup}")
    return a


def flops(a):
    f = 4.0 * a.batch_size * a.seq_len ** 2 * a.nheads * a.head_size
    return f * (0.5 if a.causal else 1.0) * (1.0 if a.fwd_only else 3.5)


def main(argv):
    a = parse_args(argv)
    import torch
    import tileattn
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    if a.python_overhead and a.device == "cpu":
        return python_overhead(torch, tileattn, dtype, torch.device("cpu"), a.calls, a.rounds)
    if not torch.cuda.is_available():
        print("benchmark_flash_attn: no CUDA GPU (this benchmark times the GPU library)", file=sys.stderr)
        return 1
    dev = torch.device("cuda")
    if a.python_overhead:
        return python_overhead(torch, tileattn, dtype, dev, a.calls, a.rounds)
    qkv = torch.empty(a.batch_size, a.seq_len, 3, a.nheads, a.head_size, device=dev, dtype=dtype).uniform_(-1, 1)
    qkv.requires_grad_(not a.fwd_only)
    dout = torch.empty(a.batch_size, a.seq_len, a.nheads, a.head_size, device=dev, dtype=dtype).uniform_(-1, 1)
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device=dev)

    def iteration():
        out = tileattn.flash_attn_qkvpacked_func(qkv, causal=a.causal)
        if not a.fwd_only:
            torch.autograd.grad(out, qkv, dout)

    torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(a.warmup):
        iteration()
    times = []
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    # A GPU-side wait after the flush, before the start event: the Python layer's host time
    # (about 100 us a call on the GPU machine, against 16 us for the C++ API) would otherwise
    # leave the GPU idle inside the timed region after the flush. The host enqueues the
    # iteration during the wait, so the events time its kernels alone, as //bench:flash_attn's do.
    sleep = getattr(torch.cuda, "_sleep", None)
    for _ in range(a.iters):
        flush.fill_(1)
        if sleep is not None:
            sleep(HOST_HEAD_START_CYCLES)
        start.record()
        iteration()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    ms = statistics.median(times)
    peak_mb = torch.cuda.max_memory_allocated(dev) / 2 ** 20 - L2_FLUSH_BYTES / 2 ** 20
    print(TABLE_HEADER)
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {a.batch_size} | {a.seq_len} | {a.nheads} | {a.head_size} | {a.fwd_only} | {1000.0 / ms:.2f} | {ms:.3f} "
          f"| {peak_mb:.0f} | {flops(a) / (ms * 1e-3) / 1e12:.1f} |")

    if a.profile:
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            iteration()
            torch.cuda.synchronize()
        name = (f"flash_attn_qkvpacked_func{'_causal' if a.causal else ''}_{a.dtype}_bs_{a.batch_size}_seq_{a.seq_len}"
                f"_heads_{a.nheads}_d_{a.head_size}_rank_0_fwd_only_{a.fwd_only}.json")
        path = os.path.join(a.out_dir, name)
        prof.export_chrome_trace(path)
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=10))
        print(f"trace: {path}")
    return 0


def python_overhead(torch, tileattn, dtype, dev, calls, rounds):
    """Host microseconds per forward call at (1, 128, 1, 64): through the package (its fast path,
    then its DLPack path), and straight into the C ABI with DLTensors and options built once.
    All enqueue on the current stream. The variants take turns for `rounds` rounds of `calls`
    calls; the fastest round of each counts (other work on the host only slows rounds down)."""
    import time
    from tileattn import _dlpack, _fast, _library
    device_type = dev.type
    q = torch.randn(1, 128, 1, 64, device=dev, dtype=dtype)
    out, lse = torch.empty_like(q), torch.empty(1, 1, 128, device=dev, dtype=torch.float32)
    lib = _library.library(device_type)
    buf, addresses = _dlpack.pack([("q", q), ("k", q), ("v", q), ("out", out), ("softmax_lse", lse)])
    options = _library.make_options(None, False, (-1, -1), 0.0, None, False)
    stream = torch.cuda.current_stream(dev).cuda_stream if device_type == "cuda" else None
    synchronize = torch.cuda.synchronize if device_type == "cuda" else (lambda: None)
    backend = lib.tileattn_backend_name().decode()
    print(f"library: {lib.path} ({backend})")
    fast = _fast.available(device_type)
    print(f"fast path: {_fast.extension().path if fast else 'not available (DLPack path only)'}")
    if backend == "interp":
        print("note: the interpreter's time per call varies by more than the Python layer costs; set "
              "TILEATTN_CPU_LIBRARY to libtileattn_noop.so to time the layer alone", file=sys.stderr)

    def direct():
        _library.call(lib, "tileattn_fwd", *addresses, options, stream)

    def package():
        tileattn.flash_attn_func(q, q, q)

    variants = [("C ABI, arguments prepared once", direct, True), ("tileattn.flash_attn_func", package, True)]
    if fast:
        variants.append(("tileattn.flash_attn_func, DLPack path", package, False))
    best = {}
    for _ in range(rounds):
        for name, fn, fast_path in variants:
            _fast.enabled = fast_path
            for _ in range(min(calls, 100)):
                fn()
            synchronize()
            t = time.perf_counter()
            for _ in range(calls):
                fn()
            us = (time.perf_counter() - t) / calls * 1e6
            synchronize()
            best[name] = min(best.get(name, us), us)
    _fast.enabled = True
    for name, _, _ in variants:
        print(f"{name}: {best[name]:.1f} us/call (host)")
    base = best["C ABI, arguments prepared once"]
    print(f"python overhead: {best['tileattn.flash_attn_func'] - base:.1f} us/call")
    if fast:
        print(f"python overhead, DLPack path: {best['tileattn.flash_attn_func, DLPack path'] - base:.1f} us/call")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
