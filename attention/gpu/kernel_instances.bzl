load("//lowering/gen:tile_kernel.bzl", "tile_kernel", "tile_kernel_generator")

"""The attention kernels compiled ahead of time for the GPU, named the way gpu_backend.cc looks
them up: instance_name(kernel, params) = kernel + "__" + params with "=" dropped, "," -> "_",
lowercased. Mirrors attention/kernels/kernel_table.h (block shapes per head_dim, dtypes, softcap,
variants); //attention/gpu:compiled_table_test fails when the two disagree."""

def _blocks(dim, dim_v, ragged = "false", softcap = "false"):
    """((forward BLOCK_M, BLOCK_N, NUM_WARPS), (backward ...)): block_shape_of and
    BlockShape::bwd_for in kernel_table.h."""
    widest = max(dim, dim_v)
    if widest <= 64 and ragged == "false":
        return ((128, 128, 8), (64, 128, 8) if softcap == "true" else (128, 128, 8))
    if widest <= 128:
        return ((128, 128, 8), (64, 128, 8))
    return ((128, 32, 8), (32, 32, 8))

# Kernels a variant replaces (kernel_table.h: fwd/dq/dkdv_kernel_name) and kernels all variants
# share (kPreprocessKernel, kDqConvertKernel).
_SHARED = ["attn_bwd_preprocess", "attn_dq_convert"]

# The head-dim specialisations of kernel_table.h's block_shapes(): (HEAD_DIM, HEAD_DIM_V, RAGGED).
# Exact 64/128/256 and ragged buckets for every other head_dim <= 256, with every feature ...
ALL_HEAD_DIMS = [
    (64, 64, "false"),
    (128, 128, "false"),
    (256, 256, "false"),
    (64, 64, "true"),
    (128, 128, "true"),
    (256, 256, "true"),
]

# ... and the head_dim_v pairs, plain attention without softcap (BlockShape::plain_only).
PLAIN_ONLY_HEAD_DIMS = [
    (256, 128, "true"),
    (128, 64, "true"),
    (64, 128, "true"),
]
ALL_DTYPES = ["bf16", "fp16"]
ALL_SOFTCAPS = ["false", "true"]

def _params_str(params):
    return ",".join(["%s=%s" % (k, params[k]) for k in sorted(params.keys())])

def _instance(kernel, params):
    return (kernel + "__" + _params_str(params).replace("=", "").replace(",", "_")).lower()

def _params(dims, dtype, softcap, blocks):
    bm, bn, warps = blocks
    dim, dim_v, ragged = dims
    return {
        "BLOCK_M": bm,
        "BLOCK_N": bn,
        "DTYPE": {"fp16": "f16"}.get(dtype, dtype),
        "HEAD_DIM": dim,
        "HEAD_DIM_V": dim_v,
        "NUM_WARPS": warps,
        "RAGGED": ragged,
        "SOFTCAP": softcap,
    }

def _specialisations(head_dims, dtypes, softcaps):
    """(forward params, backward params) of each specialisation."""
    out = []
    for d in head_dims:
        plain_only = d in PLAIN_ONLY_HEAD_DIMS
        for t in dtypes:
            for cap in softcaps:
                if plain_only and cap != "false":
                    continue
                fwd_blocks, bwd_blocks = _blocks(d[0], d[1], d[2], cap)
                out.append((_params(d, t, cap, fwd_blocks), _params(d, t, cap, bwd_blocks)))
    return out

def _family(out, suffix, f, p):
    """The kernels a variant replaces (kernel_table.h: fwd/dq/dkdv_kernel_name)."""
    out[_instance("attn_fwd" + suffix, f)] = "attn_fwd" + suffix + ":" + _params_str(f)
    out[_instance("attn_bwd_dq" + suffix, p)] = "attn_bwd_dq" + suffix + ":" + _params_str(p)
    for atomic in ["true", "false"]:
        pa = dict(p)
        pa["ATOMIC_DQ"] = atomic
        name = "attn_bwd_dkdv" + suffix
        out[_instance(name, pa)] = name + ":" + _params_str(pa)

def attention_instances(head_dims, dtypes, softcaps = ["false"], extra = {}):
    """{instance: "kernel:PARAMS"} for plain attention's kernels and the shared ones (and `extra`)."""
    out = dict(extra)
    for f, p in _specialisations(head_dims, dtypes, softcaps):
        for k in _SHARED:
            out[_instance(k, p)] = k + ":" + _params_str(p)
        _family(out, "", f, p)
    return out

def _block_mask_params(blocks):
    """kernel_table.h: block_mask_params."""
    return {"BLOCK_M": blocks[0], "BLOCK_N": blocks[1], "NUM_WARPS": blocks[2]}

def block_mask_column_instances(head_dims):
    """attn_block_mask_columns at each distinct block shape of the head dims."""
    out = {}
    for d in head_dims:
        for blocks in _blocks(d[0], d[1], d[2]):
            p = _block_mask_params(blocks)
            out[_instance("attn_block_mask_columns", p)] = "attn_block_mask_columns:" + _params_str(p)
    return out

def variant_instances(variant, compiled):
    """{instance: spec} for one variant's kernels (attn_fwd_<variant>, ...); `compiled`: its
    registry.bzl entry (head_dims, dtypes, softcaps, mask). A variant with a mask also gets its
    block-sparse kernels (attn_fwd_blocks_<variant>, ...) and its block-mask builder."""
    out = {}
    for f, p in _specialisations(compiled["head_dims"], compiled["dtypes"], compiled["softcaps"]):
        _family(out, "_" + variant, f, p)
        if compiled["mask"]:
            _family(out, "_blocks_" + variant, f, p)
    if compiled["mask"]:
        for d in compiled["head_dims"]:
            for blocks in _blocks(d[0], d[1], d[2]):
                p = _block_mask_params(blocks)
                name = "attn_block_mask_" + variant
                out[_instance(name, p)] = name + ":" + _params_str(p)
    return out

def attention_kernel_libraries(name, instances, deps):
    """One tile_kernel library per instance, plus `name`: a library whose <name>_kernels[] lists
    every instance's image and registers them for lookup by name (compiled_images.h).

    One generator process per instance, so the kernels build in parallel; all instances share one
    generator binary (one link). The PTX fallback is left out: it would double the binaries (the GPU
    machine takes 64 MiB per call) and sm_90a PTX cannot JIT for any other GPU anyway."""
    generator = name + "_generator"
    tile_kernel_generator(name = generator, deps = deps)
    libs = []
    seen = {}
    for instance, spec in instances.items():
        # Short, stable target names: an output is named <lib>_<instance>.cubin, and with the
        # instance twice the name passes Linux's 255-byte limit. The hash depends on the instance
        # only, so adding a kernel leaves the others' actions untouched.
        lib = "k_" + ("%d" % hash(instance)).replace("-", "n")
        if lib in seen:
            fail("kernel library name collision: %s and %s" % (seen[lib], instance))
        seen[lib] = instance
        tile_kernel(name = lib, kernels = {instance: spec}, generator = ":" + generator, embed_ptx = False)
        libs.append(lib)
    native.genrule(
        name = name + "_index",
        outs = [name + ".h", name + ".cc"],
        cmd = "\n".join([
            "cat > $(location %s.h) <<'EOF'" % name,
            "// Generated: every compiled attention kernel image, for lookup by instance name.",
            "#pragma once",
            "#include \"dsl/runtime/kernel_image.h\"",
            "namespace tile::kernels {",
            "inline constexpr int %s_num_kernels = %d;" % (name, len(libs)),
            "extern const ::tile::rt::KernelImage* const %s_kernels[%d];" % (name, len(libs)),
            "}  // namespace tile::kernels",
            "EOF",
            "cat > $(location %s.cc) <<'EOF'" % name,
            "#include \"%s/%s.h\"" % (native.package_name(), name),
            "#include \"attention/gpu/compiled_images.h\"",
        ] + ["#include \"%s/%s.h\"" % (native.package_name(), lib) for lib in libs] + [
            "namespace tile::kernels {",
            "const ::tile::rt::KernelImage* const %s_kernels[%d] = {" % (name, len(libs)),
        ] + ["    &%s_image," % i for i in instances.keys()] + [
            "};",
            "static const bool registered = ::tile::attention::register_compiled_images(%s_kernels, %d);" % (name, len(libs)),
            "}  // namespace tile::kernels",
            "EOF",
        ]),
    )
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        hdrs = [name + ".h"],
        deps = [":" + lib for lib in libs] + ["//attention/gpu:compiled_images", "//dsl/runtime"],
        alwayslink = True,
    )
