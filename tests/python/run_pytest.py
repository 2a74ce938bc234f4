"""Runs the pytest modules named on the command line (py_test's entry point: Bazel calls this
script, pytest collects the modules)."""

import sys

import pytest

if __name__ == "__main__":
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider"] + sys.argv[1:]))
