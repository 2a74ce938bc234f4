"""The attention variants: one .cc file each in this package, and one line here.

VARIANTS maps a variant's name (its file is <name>.cc) to what the GPU build compiles ahead of
time, mirroring the file's compiled() (//attention/gpu:compiled_table_test fails when the two
disagree): head_dims as (HEAD_DIM, HEAD_DIM_V, RAGGED), dtypes, softcaps, and "mask": True for a
variant with a mask_mod (its block-sparse kernels and block-mask builder are compiled too). {}
is the default of variant.h: exact head_dim 128, bf16 and fp16, no softcap."""

load("//attention/gpu:kernel_instances.bzl", "ALL_HEAD_DIMS")

# ALiBi's: every head-dim specialisation with every feature (kernel_table.h's non-plain-only).
_FULL_FEATURE_HEAD_DIMS = ALL_HEAD_DIMS

VARIANTS = {
    "alibi": {"head_dims": _FULL_FEATURE_HEAD_DIMS, "softcaps": ["false", "true"]},
    "document_mask": {"mask": True},
    "head_temperature": {},
    "prefix_lm": {"mask": True},
    "rel_pos_bias": {},
    "sliding_window_sinks": {"mask": True},
}

DEFAULT_COMPILED = {"head_dims": [(128, 128, "false")], "dtypes": ["bf16", "fp16"], "softcaps": ["false"], "mask": False}

def compiled_for(name):
    """The variant's compiled specialisations with the defaults filled in."""
    out = dict(DEFAULT_COMPILED)
    out.update(VARIANTS[name])
    return out

def attention_variant(name):
    """Two libraries from <name>.cc: `name` for the host (registry entry, references; no MLIR)
    and `name`_kernels with the DSL hooks (TILE_ATTENTION_VARIANT_KERNELS)."""
    native.cc_library(
        name = name,
        srcs = [name + ".cc"],
        deps = [":authoring_headers"],
        alwayslink = True,
    )
    native.cc_library(
        name = name + "_kernels",
        srcs = [name + ".cc"],
        copts = ["-DTILE_ATTENTION_VARIANT_KERNELS"],
        deps = [":kernel_side"],
        alwayslink = True,
    )
