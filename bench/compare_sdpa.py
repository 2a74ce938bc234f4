#!/usr/bin/env python3
"""PyTorch SDPA's FLASH_ATTENTION (FlashAttention-2) and CUDNN_ATTENTION backends on the cases of
//bench:flash_attn, timed the same way, and our numbers beside theirs with ratios.

Run on the GPU machine in the same call as the bench (absolute times move from card to card and
run to run; ratios measured in one call do not):

  gpu_bundle/run.sh //bench:flash_attn --sweep seed --json $PWD/ours.json
  python3 bench/compare_sdpa.py --ours ours.json            # the cases in ours.json
  python3 bench/compare_sdpa.py --sweep seed [--fwd_only]    # or flags like the bench's
  python3 bench/compare_sdpa.py --batch_size 2 --seq_len 4096 --causal --fwd_only
  python3 bench/compare_sdpa.py --ours other.json --sdpa sdpa.json  # SDPA timed earlier, same call

Timing, as in the bench: inputs are fresh uniform(-1, 1) values in (batch, nheads, seqlen,
head_dim) layout; L2 is flushed before each timed iteration (a 256 MiB fill outside the timed
region); CUDA events around each iteration; the median of --iters after --warmup. Forward+backward
is one forward and torch.autograd.grad of it (fresh gradients, nothing accumulated).
TFLOPS = 4*B*S^2*H*D, x0.5 when causal, x3.5 for forward+backward.
Peak memory: torch.cuda.max_memory_allocated during the case (inputs, outputs, gradients and
what the backend allocates), MB = 2^20 bytes.
"""
import argparse
import json
import sys

SEED_SHAPES = [(2, 4096), (8, 4096), (16, 4096), (64, 4096), (128, 4096),
               (2, 8192), (2, 16384), (2, 32768), (2, 65536)]
BACKENDS = [("FA2", "FLASH_ATTENTION"), ("cuDNN", "CUDNN_ATTENTION")]
TABLE_HEADER = ("| batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) "
                "| peak memory(MB/device) | speed(TFLOPS) |")
L2_FLUSH_BYTES = 256 << 20


def attention_flops(b, s, h, d, causal, fwd_only, dv=None):
    """2*B*S^2*H*(D+DV) (= 4*B*S^2*H*D when DV = D), x0.5 causal, x3.5 forward+backward."""
    f = 2.0 * b * s * s * h * (d + (d if dv is None else dv))
    if causal:
        f *= 0.5
    if not fwd_only:
        f *= 3.5
    return f


def tflops(case, ms):
    return attention_flops(case["batch_size"], case["seq_len"], case["nheads"], case["head_size"],
                           case["causal"], case["fwd_only"], case.get("head_size_v")) / (ms * 1e-3) / 1e12


def case_key(c):
    return (c["batch_size"], c["seq_len"], c["nheads"], c.get("nheads_k", c["nheads"]), c["head_size"],
            bool(c["causal"]), bool(c["fwd_only"]), c.get("dtype", "bf16"), c.get("head_size_v", c["head_size"]))


def ours_key(c):
    """Our rows also differ by dQ strategy (SDPA has one): a deterministic row is its own."""
    return case_key(c) + (bool(c.get("deterministic", False)),)


def make_case(b, s, h, hk, d, causal, fwd_only, dtype, dv=None):
    return {"batch_size": b, "seq_len": s, "nheads": h, "nheads_k": hk, "head_size": d,
            "causal": causal, "fwd_only": fwd_only, "dtype": dtype, "head_size_v": d if dv is None else dv}


def cases_from_args(a, ours):
    shape_flags = any(v is not None for v in (a.batch_size, a.seq_len, a.nheads, a.nheads_k, a.head_size, a.head_size_v))
    if a.sweep == "seed":
        if shape_flags or a.causal or a.dtype:
            raise SystemExit("compare_sdpa: error: --sweep seed fixes causal, bf16, H=16, D=128 and B x S")
        return [make_case(b, s, 16, 16, 128, True, fwd, "bf16")
                for fwd in ((True,) if a.fwd_only else (True, False)) for b, s in SEED_SHAPES]
    if ours is not None and not shape_flags:
        return [dict(make_case(*case_key(c)), deterministic=bool(c.get("deterministic", False))) for c in ours["cases"]]
    h = a.nheads or 16
    d = a.head_size or 128
    return [make_case(a.batch_size or 2, a.seq_len or 4096, h, a.nheads_k or h, d,
                      a.causal, a.fwd_only, a.dtype or "bf16", a.head_size_v or d)]


def table_row(case, ms, peak_mb):
    return (f"| {case['batch_size']} | {case['seq_len']} | {case['nheads']} | {case['head_size']} | "
            f"{case['fwd_only']} | {1000.0 / ms:.2f} | {ms:.3f} | {peak_mb:.0f} | {tflops(case, ms):.1f} |")


def ms_tf(case, ms):
    return "n/a" if ms is None else f"{ms:.3f} / {tflops(case, ms):.0f}"


def ratio(ours_ms, theirs_ms):
    # Speed ratio: above 1 means ours is faster (same FLOP count, so theirs_ms / ours_ms).
    return "n/a" if ours_ms is None or theirs_ms is None else f"{theirs_ms / ours_ms:.2f}"


def comparison_table(cases, ours_by_key, sdpa):
    lines = ["| causal | fwd_only | B | S | H | D | ours ms / TF | FA2 (SDPA) ms / TF | cuDNN ms / TF | "
             "ours/FA2 | ours/cuDNN |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        k = case_key(c)
        ours = ours_by_key.get(ours_key(c))
        o = ours["median_ms"] if ours else None
        det = " (deterministic)" if c.get("deterministic") else ""
        fa2, cudnn = sdpa.get(("FA2", k)), sdpa.get(("cuDNN", k))
        lines.append(f"| {int(c['causal'])} | {int(c['fwd_only'])} | {c['batch_size']} | {c['seq_len']} | "
                     f"{c['nheads']} | {c['head_size']} | {ms_tf(c, o)}{det} | {ms_tf(c, fa2)} | {ms_tf(c, cudnn)} | "
                     f"{ratio(o, fa2)} | {ratio(o, cudnn)} |")
    return "\n".join(lines)


def time_sdpa(torch, backend, case, warmup, iters, flush):
    """Median ms and peak MB of one case on one SDPA backend."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.functional as F
    dt = torch.bfloat16 if case["dtype"] == "bf16" else torch.float16
    b, s, h, hk, d = (case[k] for k in ("batch_size", "seq_len", "nheads", "nheads_k", "head_size"))
    dv = case.get("head_size_v", d)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()

    def uniform(*shape):
        return torch.empty(*shape, device="cuda", dtype=dt).uniform_(-1, 1)
    fwd_only = case["fwd_only"]
    q = uniform(b, h, s, d).requires_grad_(not fwd_only)
    k = uniform(b, hk, s, d).requires_grad_(not fwd_only)
    v = uniform(b, hk, s, dv).requires_grad_(not fwd_only)
    dout = None if fwd_only else uniform(b, h, s, dv)
    extra = {"enable_gqa": True} if hk != h else {}

    def step():
        with sdpa_kernel(getattr(SDPBackend, backend)):
            if fwd_only:
                with torch.no_grad():
                    F.scaled_dot_product_attention(q, k, v, is_causal=case["causal"], **extra)
            else:
                o = F.scaled_dot_product_attention(q, k, v, is_causal=case["causal"], **extra)
                torch.autograd.grad(o, (q, k, v), dout)

    for _ in range(max(1, warmup)):
        step()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    stops = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        flush.fill_(i)
        starts[i].record()
        step()
        stops[i].record()
    torch.cuda.synchronize()
    times = sorted(a.elapsed_time(z) for a, z in zip(starts, stops))
    n = len(times)
    median = times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])
    peak_mb = (torch.cuda.max_memory_allocated() - base) / 2**20
    return median, peak_mb


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch_size", type=int)
    p.add_argument("--seq_len", type=int)
    p.add_argument("--nheads", type=int)
    p.add_argument("--nheads_k", type=int)
    p.add_argument("--head_size", type=int)
    p.add_argument("--head_size_v", type=int, help="v/out head dim (default: --head_size)")
    p.add_argument("--causal", action="store_true")
    p.add_argument("--fwd_only", action="store_true")
    p.add_argument("--dtype", choices=["bf16", "fp16"])
    p.add_argument("--sweep", choices=["seed"])
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--ours", help="JSON written by //bench:flash_attn --json")
    p.add_argument("--json", help="also write the SDPA results here")
    p.add_argument("--sdpa", help="SDPA results written by --json earlier in the same device call: "
                                  "compare against those instead of timing SDPA again")
    a = p.parse_args(argv)

    ours = None
    if a.ours:
        with open(a.ours) as f:
            ours = json.load(f)
    cases = cases_from_args(a, ours)
    ours_by_key = {ours_key(c): c for c in ours["cases"]} if ours else {}

    if a.sdpa:
        with open(a.sdpa) as f:
            earlier = json.load(f)
        sdpa = {(r["backend"], case_key(r)): r["median_ms"] for r in earlier["results"]}
        missing = [c for c in cases if not any((name, case_key(c)) in sdpa for name, _ in BACKENDS)]
        if missing:
            print(f"compare_sdpa: error: --sdpa {a.sdpa} has no result for {len(missing)} of the cases "
                  f"(first: {case_key(missing[0])})", file=sys.stderr)
            return 2
        print(f"device: {earlier['device']}; torch {earlier['torch']}; SDPA from {a.sdpa}")
        print("\nours vs SDPA (ratio = speed ratio, above 1 means ours is faster)")
        print(comparison_table(cases, ours_by_key, sdpa))
        return 0

    import torch
    if not torch.cuda.is_available():
        print("compare_sdpa: no GPU: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    device = torch.cuda.get_device_name(0)
    flush = torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.int32, device="cuda")
    sdpa, rows, records = {}, {name: [] for name, _ in BACKENDS}, []
    for i, c in enumerate(cases):
        for name, backend in BACKENDS:
            if (name, case_key(c)) in sdpa:
                continue  # the same shape in another dQ strategy of ours: SDPA has one
            print(f"sdpa case {i + 1}/{len(cases)} {name}: bs {c['batch_size']} seq {c['seq_len']} "
                  f"fwd_only {c['fwd_only']}", file=sys.stderr, flush=True)
            try:
                ms, peak = time_sdpa(torch, backend, c, a.warmup, a.iters, flush)
            except (RuntimeError, torch.OutOfMemoryError) as e:
                print(f"  {name}: not run: {str(e).splitlines()[0]}", file=sys.stderr)
                torch.cuda.empty_cache()
                continue
            torch.cuda.empty_cache()
            sdpa[(name, case_key(c))] = ms
            rows[name].append(table_row(c, ms, peak))
            records.append(dict(c, backend=name, median_ms=ms, tflops=tflops(c, ms), peak_memory_mb=peak))

    print(f"device: {device}; torch {torch.__version__}; cuDNN {torch.backends.cudnn.version()}; "
          f"warmup {a.warmup}, iters {a.iters}, median")
    for name, backend in BACKENDS:
        print(f"\nPyTorch SDPA {backend} ({name})\n{TABLE_HEADER}\n|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows[name]))
    print("\nours vs SDPA (ratio = speed ratio, above 1 means ours is faster)")
    print(comparison_table(cases, ours_by_key, sdpa))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": device, "torch": torch.__version__, "results": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
