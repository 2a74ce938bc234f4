"""The GPU benchmark script's command line without a GPU: the seed's flags parse, a bad flag is
exit 2 naming it, and a machine without CUDA is exit 1 with one line (CPU torch here)."""

import os
import subprocess
import sys

SCRIPT = os.path.join("python", "benchmarks", "benchmark_flash_attn.py")


def run(*flags):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, SCRIPT, *flags], capture_output=True, text=True, env=env)


def test_seed_flags_parse_and_no_gpu_is_exit_1():
    r = run("--batch_size", "2", "--seq_len", "4096", "--nheads", "16", "--head_size", "128", "--fwd_only",
            "--causal", "--profile")
    assert r.returncode == 1, r.stderr
    assert "no CUDA GPU" in r.stderr


def test_bad_flag_is_exit_2_naming_it():
    r = run("--seq_len", "0")
    assert r.returncode == 2 and "--seq_len" in r.stderr
