#!/usr/bin/env python3
"""Counts the attention kernels compiled ahead of time and measures what generating them costs.

Replays every kernel generation action of //attention/gpu (DSL -> MLIR -> PTX -> ptxas), as Bazel
runs it, one after the other into a scratch directory, and sums their user + system CPU time, so
the number does not depend on what else the machine is doing. On N cores the wall time is about
CPU time / N (the actions are independent).

    tools/kernel_generation_cost.py [--limit N]     # N: replay only the first N actions
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bazel(*args):
    return subprocess.run(["bazel", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    bazel("build", "//attention/gpu:attention_kernels")
    execroot = bazel("info", "execution_root").strip()
    text = bazel("aquery", 'mnemonic("Genrule", //attention/gpu:*)', "--output=text")
    commands = []
    for m in re.finditer(r"genrule-setup\.sh; (bazel-out/\S+_generator .*?)'\)", text, re.S):
        commands.append(m.group(1).replace("'\\''", "'"))
    if args.limit:
        commands = commands[: args.limit]
    with tempfile.TemporaryDirectory() as scratch:
        cpu = 0.0
        for cmd in commands:
            cmd = re.sub(r"--out_dir=\S+", "--out_dir=" + scratch, cmd)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["/bin/bash", "-c", cmd], cwd=execroot, check=True, capture_output=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"kernels: {len(commands)}")
    print(f"generation CPU time: {cpu:.0f} s (user + system, actions one after another); "
          f"about {cpu / 2 / 60:.1f} min of wall time on 2 cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
