#!/usr/bin/env python3
"""Makes a TILE_KERNEL_OVERRIDE_DIR folder from a generator run: each kernel's cubin as
<instance>.cubin and, beside it, <instance>.meta with what the runtime checks before it lets
the cubin stand in for the built-in image (dsl/runtime/override_meta.h): its dynamic shared
memory, TMA templates and warps, read from the generated source's KernelImage.

    ./bazel-bin/attention/gpu/attention_kernels_generator --name=x --out_dir=/tmp/gen \\
        --header_path=x.h --ptxas=/usr/local/cuda/bin/ptxas --kernel=<instance>=<kernel:PARAMS> ...
    tools/kernel_override_dir.py --gen_dir /tmp/gen --name x --out kernel_overrides/mine

Exit 2 on bad flags or a generator folder without the expected files.
"""
import argparse
import os
import re
import shutil
import sys

IMAGE = re.compile(r'const ::tile::rt::KernelImage \w+_image = \{(?P<body>.*?)\n\};', re.S)
FIELD_NAME = re.compile(r'^\s*"(?P<name>[^"]+)"', re.M)
FIELD_SIZES = re.compile(r'/\*num_warps=\*/(?P<warps>\d+), /\*smem_bytes=\*/(?P<smem>\d+)')
FIELD_TMA = re.compile(r'\w+_tma, (?P<templates>\d+)')  # absent: no TMA templates
# A kernel's TMA template array: `const ::tile::rt::TmaTemplate <instance>_tma[] = { {e, c, r}, ... };`
TMA_ARRAY = re.compile(r'TmaTemplate (?P<instance>\w+)_tma\[\] = \{(?P<body>.*?)\n\};', re.S)
TMA_BOX = re.compile(r'\{\s*(\d+),\s*(\d+),\s*(\d+)\s*\}')


def tma_boxes(source):
    """{instance: [(elem, box_cols, box_rows)]} of a generated .cc: written to the meta, so that an
    override generated at another block shape encodes its own boxes."""
    return {m.group("instance"): [tuple(int(x) for x in b) for b in TMA_BOX.findall(m.group("body"))]
            for m in TMA_ARRAY.finditer(source)}


def images(source):
    """[(instance, num_warps, smem_bytes, tma_templates)] of a generated .cc."""
    out = []
    for m in IMAGE.finditer(source):
        body = m.group("body")
        name, sizes, tma = FIELD_NAME.search(body), FIELD_SIZES.search(body), FIELD_TMA.search(body)
        if not name or not sizes:
            continue
        out.append((name.group("name"), int(sizes.group("warps")), int(sizes.group("smem")),
                    int(tma.group("templates")) if tma else 0))
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gen_dir", required=True, help="the generator's --out_dir")
    p.add_argument("--name", required=True, help="the generator's --name")
    p.add_argument("--out", required=True, help="the override folder to fill")
    try:
        a = p.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    source_path = os.path.join(a.gen_dir, a.name + ".cc")
    if not os.path.isfile(source_path):
        print(f"kernel_override_dir: --gen_dir/--name: no {source_path}", file=sys.stderr)
        return 2
    with open(source_path) as f:
        source = f.read()
    found, boxes = images(source), tma_boxes(source)
    if not found:
        print(f"kernel_override_dir: {source_path} holds no KernelImage", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    for instance, warps, smem, templates in found:
        cubin = os.path.join(a.gen_dir, f"{a.name}_{instance}.cubin")
        if not os.path.isfile(cubin):
            print(f"kernel_override_dir: no {cubin} for {instance}", file=sys.stderr)
            return 2
        shutil.copyfile(cubin, os.path.join(a.out, instance + ".cubin"))
        with open(os.path.join(a.out, instance + ".meta"), "w") as f:
            f.write(f"smem_bytes {smem}\ntma_templates {templates}\nnum_warps {warps}\n")
            for elem, cols, rows in boxes.get(instance, []):
                f.write(f"tma_template {elem} {cols} {rows}\n")
        print(f"{instance}: {smem} B smem, {templates} TMA templates, {warps} warps")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
