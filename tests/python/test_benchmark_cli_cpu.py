"""The GPU benchmark script's command line without a GPU: the seed's flags parse, a bad flag is
exit 2 naming it, a machine without CUDA is exit 1 with one line (CPU torch here), and
--python_overhead --device cpu times the package against the do-nothing library."""

import os
import subprocess
import sys

SCRIPT = os.path.join("python", "benchmarks", "benchmark_flash_attn.py")
NOOP_LIBRARY = os.path.join("python", "benchmarks", "libtileattn_noop.so")


def run(*flags, **env_vars):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **env_vars)
    return subprocess.run([sys.executable, SCRIPT, *flags], capture_output=True, text=True, env=env)


def test_seed_flags_parse_and_no_gpu_is_exit_1():
    r = run("--batch_size", "2", "--seq_len", "4096", "--nheads", "16", "--head_size", "128", "--fwd_only",
            "--causal", "--profile")
    assert r.returncode == 1, r.stderr
    assert "no CUDA GPU" in r.stderr


def test_bad_flag_is_exit_2_naming_it():
    r = run("--seq_len", "0")
    assert r.returncode == 2 and "--seq_len" in r.stderr


def test_python_overhead_on_the_cpu_times_both_paths():
    r = run("--python_overhead", "--device", "cpu", "--calls", "200", "--rounds", "2",
            TILEATTN_CPU_LIBRARY=os.path.abspath(NOOP_LIBRARY))
    assert r.returncode == 0, r.stderr
    assert "(noop)" in r.stdout and "fast path: " in r.stdout and "_fastpath" in r.stdout
    for line in ("C ABI, arguments prepared once:", "tileattn.flash_attn_func:", "python overhead:",
                 "python overhead, DLPack path:"):
        assert line in r.stdout, r.stdout
