"""The compiled instances of the ring's element-wise kernels, named the way
distributed/gpu_tensor_ops.cc looks them up: kernel + "__" + the sorted params with "=" dropped,
"," -> "_", lowercased."""

_FLOATS = ["bf16", "f16", "f32"]

def _instance(kernel, params):
    return (kernel + "__" + params.replace("=", "").replace(",", "_")).lower()

def elementwise_instances():
    specs = (
        ["dist_copy:BLOCK_COLS=64,BLOCK_ROWS=16,DST=%s,NUM_WARPS=4,SRC=%s" % (d, s) for d in _FLOATS for s in _FLOATS] +
        ["dist_fill:BLOCK_COLS=64,BLOCK_ROWS=16,DST=%s,NUM_WARPS=4" % d for d in _FLOATS] +
        ["dist_accumulate:BLOCK_COLS=64,BLOCK_ROWS=16,NUM_WARPS=4,SRC=%s" % s for s in _FLOATS] +
        ["dist_merge:BLOCK_COLS=64,BLOCK_ROWS=16,NUM_WARPS=4,SRC=%s" % s for s in _FLOATS]
    )
    return {_instance(s.split(":")[0], s.split(":")[1]): s for s in specs}
