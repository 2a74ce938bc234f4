"""tile_kernel: compile tile kernels ahead of time into a C++ library with typed launch stubs.

    load("//lowering/gen:tile_kernel.bzl", "tile_kernel")

    tile_kernel(
        name = "example_kernels",
        kernels = {
            # instance name (C identifier) -> spec
            "vadd": "vector_add",                            # a DSL kernel, registered params
            "gemm_bm128": "gemm:BLOCK_M=128,BLOCK_N=128",    # ... overriding parameters of
                                                             # its first registered set
            "raw_add": "mlir:vector_add.mlir#vector_add",    # a hand-written gpu.module
        },
        mlir_srcs = ["testdata/vector_add.mlir"],
        deps = ["//dsl/examples"],                           # libraries that register kernels
    )

produces
    :example_kernels        cc_library: example_kernels.h / .cc, launch_<instance>(stream, grid,
                            typed args...) and <instance>_image; depends only on //dsl/runtime
    :example_kernels_ptx    the PTX of each instance (<name>_<instance>.ptx)
    :example_kernels_cubin  the cubins (<name>_<instance>.cubin)
A host generator binary (<name>_generator, MLIR linked dynamically) links `deps` and runs at
build time; nothing MLIR reaches the library.

Many libraries over the same kernel sources can share one generator (one link instead of one
per library): declare it once with tile_kernel_generator(name, deps) and pass
`generator = ":name"` to each tile_kernel. `embed_ptx = False` leaves the PTX JIT fallback out
of the library (the .ptx files are still produced); see EmitOptions::embed_ptx.
"""

_GENERATOR_MAIN = "//lowering/gen:generator_main"
_DSL_SOURCE = "//lowering/gen:dsl_kernel_source"
_PTXAS = "@cuda//:bin/ptxas"

def tile_kernel_generator(name, deps = [], dsl = True, visibility = ["//visibility:private"], tags = []):
    """The host generator binary linking `deps` (libraries that register kernels); `dsl`: with
    the DSL kernel source (not needed for "mlir:" specs alone)."""
    native.cc_binary(
        name = name,
        deps = [_GENERATOR_MAIN] + ([_DSL_SOURCE] if dsl else []) + deps,
        visibility = visibility,
        tags = tags,
    )

def tile_kernel(
        name,
        kernels,
        deps = [],
        mlir_srcs = [],
        namespace = "tile::kernels",
        chip = "sm_90a",
        ptxas_flags = [],
        generator = None,
        embed_ptx = True,
        visibility = None,
        tags = []):
    if type(kernels) != "dict" or not kernels:
        fail("tile_kernel(%s): kernels must be a non-empty dict {instance: spec}" % name)
    if generator == None:
        generator = ":" + name + "_generator"

        # DSL kernels need the DSL and the front half of the lowering; hand-written gpu.modules
        # ("mlir:" specs) need neither.
        needs_dsl = [s for s in kernels.values() if not s.startswith("mlir:")]
        tile_kernel_generator(name = name + "_generator", deps = deps, dsl = len(needs_dsl) > 0, tags = tags)
    elif deps:
        fail("tile_kernel(%s): deps belong to the shared generator %s" % (name, generator))

    ptx = [name + "_" + instance + ".ptx" for instance in kernels]
    cubins = [name + "_" + instance + ".cubin" for instance in kernels]
    package = native.package_name()
    header_path = (package + "/" if package else "") + name + ".h"
    args = [
        "--name=" + name,
        "--out_dir=$(@D)",
        "--header_path=" + header_path,
        "--origin=//%s:%s" % (package, name),
        "--namespace=" + namespace,
        "--chip=" + chip,
        "--ptxas=$(location %s)" % _PTXAS,
    ]
    args += ["--ptxas_flag=" + f for f in ptxas_flags]
    if not embed_ptx:
        args.append("--embed_ptx=false")
    args += ["--mlir_src=$(location %s)" % src for src in mlir_srcs]
    args += ["'--kernel=%s=%s'" % (instance, spec) for instance, spec in kernels.items()]

    native.genrule(
        name = name + "_generate",
        srcs = mlir_srcs,
        outs = [name + ".h", name + ".cc"] + ptx + cubins,
        tools = [generator, _PTXAS],
        cmd = "$(location %s) %s" % (generator, " ".join(args)),
        message = "Generating tile kernels " + name,
        tags = tags,
    )
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        hdrs = [name + ".h"],
        deps = ["//dsl/runtime"],
        visibility = visibility,
        tags = tags,
    )
    native.filegroup(name = name + "_ptx", srcs = ptx, visibility = visibility, tags = tags)
    native.filegroup(name = name + "_cubin", srcs = cubins, visibility = visibility, tags = tags)
