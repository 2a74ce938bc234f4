#!/usr/bin/env python3
"""torch.nn.attention.flex_attention (compiled) on the attention variants of //bench:flash_attn
--variant, timed the way compare_sdpa.py times SDPA, and our numbers beside them with ratios.

Run on the GPU machine in the same call as the bench:

  gpu_bundle/run.sh //bench:flash_attn --variant document_mask --block_mask --batch_size 2 \\
      --seq_len 16384 --json $PWD/ours.json
  python3 bench/compare_flex.py --ours ours.json

The variants' benchmark arguments are each variant file's bench_args() (attention/variants/), the
same here: document_mask 8 equal documents per sequence; prefix_lm a prefix of S/4;
sliding_window_sinks a window of 1024 keys and 4 sinks; alibi flash-attn's geometric slopes;
rel_pos_bias a (H, 257) table (trained: its gradient is computed in the backward);
head_temperature a temperature per head. FlexAttention gets the same mask as a mask_mod with
create_block_mask (its block sparsity) and the same score_mod.

Timing: fresh uniform(-1, 1) inputs in (batch, nheads, seqlen, head_dim); L2 flushed before each
timed iteration; CUDA events; the median of --iters after --warmup (and after compilation).
Forward+backward is one forward and torch.autograd.grad of it.
"""
import argparse
import json
import math
import sys

L2_FLUSH_BYTES = 256 << 20


def mods(torch, variant, b, h, s, device):
    """(score_mod, mask_mod, trainable tensors) of one variant at its benchmark arguments."""
    if variant == "document_mask":
        doc = (torch.arange(s, device=device) * 8 // s).expand(b, s)
        return None, lambda bb, hh, q, kv: doc[bb, q] == doc[bb, kv], []
    if variant == "prefix_lm":
        prefix = s // 4
        return None, lambda bb, hh, q, kv: (kv < prefix) | (kv <= q), []
    if variant == "sliding_window_sinks":
        window, sinks = 1024, 4
        return None, lambda bb, hh, q, kv: (kv <= q) & ((q - kv < window) | (kv < sinks)), []
    if variant == "alibi":
        slopes = torch.tensor([2.0 ** (-8.0 * (i + 1) / h) for i in range(h)], device=device)
        return lambda sc, bb, hh, q, kv: sc - slopes[hh] * (q - kv).abs(), None, []
    if variant == "rel_pos_bias":
        buckets = 257
        table = torch.empty(h, buckets, device=device).uniform_(-1, 1).requires_grad_()
        half = (buckets - 1) // 2
        return (lambda sc, bb, hh, q, kv: sc + table[hh, (kv - q + half).clamp(0, buckets - 1)]), None, [table]
    if variant == "head_temperature":
        temperature = torch.linspace(0.5, 1.5, h, device=device)
        return lambda sc, bb, hh, q, kv: sc * temperature[hh], None, []
    raise SystemExit(f"compare_flex: error: no FlexAttention form of variant '{variant}'")


def time_flex(torch, case, warmup, iters, flush):
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    dt = torch.bfloat16 if case["dtype"] == "bf16" else torch.float16
    b, s, h, d = (case[k] for k in ("batch_size", "seq_len", "nheads", "head_size"))
    fwd_only = case["fwd_only"]

    def uniform(*shape):
        return torch.empty(*shape, device="cuda", dtype=dt).uniform_(-1, 1)
    q, k, v = (uniform(b, h, s, d).requires_grad_(not fwd_only) for _ in range(3))
    dout = None if fwd_only else uniform(b, h, s, d)
    score_mod, mask_mod, trainable = mods(torch, case["variant"], b, h, s, "cuda")
    if case["causal"]:
        inner = mask_mod
        mask_mod = (lambda bb, hh, qi, kv: (kv <= qi) & inner(bb, hh, qi, kv)) if inner else (lambda bb, hh, qi, kv: kv <= qi)
    block_mask = create_block_mask(mask_mod, b, None, s, s, device="cuda") if mask_mod else None
    # Each case compiles its own kernel: without a reset, dynamo's recompile limit (8) is hit
    # after a few cases and flex_attention silently runs unfused (the full score matrix).
    torch._dynamo.reset()
    flex = torch.compile(flex_attention)
    grads_of = (q, k, v, *trainable)

    def step():
        if fwd_only:
            with torch.no_grad():
                flex(q, k, v, score_mod=score_mod, block_mask=block_mask)
        else:
            o = flex(q, k, v, score_mod=score_mod, block_mask=block_mask)
            torch.autograd.grad(o, grads_of, dout)

    for _ in range(max(2, warmup)):  # the first calls compile
        step()
    torch.cuda.synchronize()
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
    return times[n // 2] if n % 2 else 0.5 * (times[n // 2 - 1] + times[n // 2])


def key(c):
    return (c["variant"], c["batch_size"], c["seq_len"], c["nheads"], c["head_size"], bool(c["causal"]),
            bool(c["fwd_only"]), c.get("dtype", "bf16"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ours", required=True, help="JSON written by //bench:flash_attn --variant ... --json")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--json", help="also write FlexAttention's results here")
    a = p.parse_args(argv)
    with open(a.ours) as f:
        ours = json.load(f)
    cases = [c for c in ours["cases"] if c.get("variant")]
    if not cases:
        raise SystemExit("compare_flex: error: no variant case in " + a.ours + " (run the bench with --variant)")
    import torch
    if not torch.cuda.is_available():
        print("compare_flex: no GPU: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    flush = torch.empty(L2_FLUSH_BYTES // 4, dtype=torch.int32, device="cuda")
    lines = ["| variant | block mask | causal | fwd_only | B | S | H | D | ours ms | FlexAttention ms | ours/Flex |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    records = []
    for c in cases:
        print(f"flex: {c['variant']} bs {c['batch_size']} seq {c['seq_len']} fwd_only {c['fwd_only']}",
              file=sys.stderr, flush=True)
        try:
            ms = time_flex(torch, c, a.warmup, a.iters, flush)
        except Exception as e:  # report and go on: one variant failing to compile is a result too
            print(f"  not run: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
            ms = None
        torch.cuda.empty_cache()
        ratio = "n/a" if ms is None else f"{ms / c['median_ms']:.2f}"
        lines.append(f"| {c['variant']} | {int(bool(c.get('block_mask')))} | {int(c['causal'])} | {int(c['fwd_only'])} | "
                     f"{c['batch_size']} | {c['seq_len']} | {c['nheads']} | {c['head_size']} | {c['median_ms']:.3f} | "
                     f"{'n/a' if ms is None else f'{ms:.3f}'} | {ratio} |")
        records.append(dict(c, flex_median_ms=ms))
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; warmup {a.warmup}, iters {a.iters}, median")
    print("ours vs FlexAttention (ratio above 1: ours is faster)")
    print("\n".join(lines))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(0), "cases": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
