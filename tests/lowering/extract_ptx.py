#!/usr/bin/env python3
"""Prints the PTX text held in the `gpu.binary` ops of an MLIR file (format=isa objects).

MLIR prints the object string with `\\XX` hex escapes for non-printable bytes; this undoes them.
"""
import re
import sys


def unescape(s: str) -> str:
    return re.sub(r"\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s).replace('\\"', '"')


def main() -> int:
    text = open(sys.argv[1]).read()
    found = re.findall(r'assembly = "((?:[^"\\]|\\.)*)"', text) or re.findall(r'bin = "((?:[^"\\]|\\.)*)"', text)
    if not found:
        print("no gpu.binary object found", file=sys.stderr)
        return 1
    for ptx in found:
        sys.stdout.write(unescape(ptx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
