#!/usr/bin/env python3
"""Merges //bench:flash_attn --json files (one case each) into one: merge_results.py OUT IN..."""
import json
import sys

merged = None
for path in sys.argv[2:]:
    with open(path) as f:
        d = json.load(f)
    if merged is None:
        merged = d
    else:
        merged["cases"].extend(d["cases"])
with open(sys.argv[1], "w") as f:
    json.dump(merged, f, indent=1)
