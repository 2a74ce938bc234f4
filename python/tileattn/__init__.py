"""tileattn: FlashAttention written in a tile DSL, with flash-attn 2.6.3's Python functions.

    from tileattn import flash_attn_func
    out = flash_attn_func(q, k, v, causal=True)   # torch (CPU or CUDA) or NumPy (CPU)

CUDA tensors run on libtileattn_gpu.so on the current torch stream, CPU tensors and NumPy
arrays on libtileattn_cpu.so (the tile interpreter). See tileattn/flash_attn_interface.py.
"""

__version__ = "0.1.0"

from .flash_attn_interface import (  # noqa: F401
    flash_attn_func,
    flash_attn_kvpacked_func,
    flash_attn_qkvpacked_func,
    flash_attn_varlen_func,
    flash_attn_varlen_qkvpacked_func,
)

__all__ = [
    "flash_attn_func",
    "flash_attn_kvpacked_func",
    "flash_attn_qkvpacked_func",
    "flash_attn_varlen_func",
    "flash_attn_varlen_qkvpacked_func",
]
