"""The attention kernels compiled ahead of time for the GPU, named the way gpu_backend.cc looks
them up: instance_name(kernel, params) = kernel + "__" + params with "=" dropped, "," -> "_",
lowercased. Mirrors attention/kernels/kernel_table.h (block shapes per head_dim)."""

_BLOCKS = {64: (128, 64, 4), 96: (128, 64, 4), 128: (128, 64, 8), 256: (64, 32, 4)}

_FWD_BWD = ["attn_fwd", "attn_bwd_preprocess", "attn_bwd_dq", "attn_dq_convert"]

def _params_str(params):
    return ",".join(["%s=%s" % (k, params[k]) for k in sorted(params.keys())])

def _instance(kernel, params):
    return (kernel + "__" + _params_str(params).replace("=", "").replace(",", "_")).lower()

def attention_instances(head_dims, dtypes, softcaps = ["false"], variants = [""]):
    """{instance: "kernel:PARAMS"} for every kernel of each specialisation."""
    out = {}
    for d in head_dims:
        bm, bn, warps = _BLOCKS[d]
        for t in dtypes:
            for cap in softcaps:
                p = {"BLOCK_M": bm, "BLOCK_N": bn, "DTYPE": t, "HEAD_DIM": d, "NUM_WARPS": warps, "SOFTCAP": cap}
                for variant in variants:
                    for k in _FWD_BWD:
                        name = k + variant if k in ["attn_fwd", "attn_bwd_dq"] else k
                        out[_instance(name, p)] = name + ":" + _params_str(p)
                    for atomic in ["true", "false"]:
                        pa = dict(p)
                        pa["ATOMIC_DQ"] = atomic
                        name = "attn_bwd_dkdv" + variant
                        out[_instance(name, pa)] = name + ":" + _params_str(pa)
    return out
