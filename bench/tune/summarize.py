"""Prints the tuning table: median ms of every variant on every case, next to PyTorch SDPA FA2.

Usage: summarize.py DIR SDPA_JSON OUT_JSON, where DIR holds <run>_<tag>_<case>.json files written
by //bench:flash_attn --json (run_variants.sh)."""
import glob
import json
import os
import re
import sys


def key(c):
    return (bool(c["causal"]), bool(c["fwd_only"]), c["batch_size"], c["seq_len"])


def main(tmp, sdpa_path, out_path):
    runs = {}  # (run, tag) -> {case key: ms}
    for f in glob.glob(os.path.join(tmp, "*_*_cases.json")):
        m = re.match(r"(\d+)_([^_]+)_", os.path.basename(f))
        if not m:
            continue
        for c in json.load(open(f))["cases"]:
            runs.setdefault((int(m.group(1)), m.group(2)), {})[key(c)] = c["median_ms"]
    fa2 = {}
    if os.path.exists(sdpa_path):
        for r in json.load(open(sdpa_path))["results"]:
            if r["backend"] == "FA2":
                fa2[key(r)] = r["median_ms"]
    cases = sorted({k for v in runs.values() for k in v}, key=lambda k: (not k[1], not k[0], k[2]))
    order = sorted(runs)
    head = "| causal | fwd_only | B×S | FA2 ms | " + " | ".join(f"{t} ({n})" for n, t in order) + " |"
    print(head)
    print("|" + "---|" * (4 + len(order)))
    for k in cases:
        cells = []
        for r in order:
            ms = runs[r].get(k)
            ratio = f" ({fa2[k] / ms:.2f})" if ms and k in fa2 else ""
            cells.append(f"{ms:.3f}{ratio}" if ms else "-")
        f = f"{fa2[k]:.3f}" if k in fa2 else "-"
        print(f"| {int(k[0])} | {int(k[1])} | {k[2]}×{k[3]} | {f} | " + " | ".join(cells) + " |")
    json.dump({"fa2_ms": {str(k): v for k, v in fa2.items()},
               "runs": [{"run": n, "tag": t, "ms": {str(k): v for k, v in runs[(n, t)].items()}}
                        for n, t in order]}, open(out_path, "w"), indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
