/* The C ABI of tileattn: flash-attn's functions (forward and backward) over DLPack tensors, for
 * any language with a C foreign-function interface (the Python package `tileattn` uses ctypes).
 *
 * Two shared libraries export exactly these symbols from the same sources:
 *   libtileattn_gpu.so  tensors in CUDA memory, kernels compiled ahead of time, no MLIR/LLVM;
 *   libtileattn_cpu.so  tensors in host memory, run by the tile interpreter (tests, debugging).
 *
 * Shapes, dtypes and semantics are those of attention/host/api.h (flash-attn 2.6.3's layouts):
 *   q, k, v (batch, seqlen, nheads, head_dim)    qkv (batch, seqlen, 3, nheads, head_dim)
 *   kv (batch, seqlen, 2, nheads_k, head_dim)    varlen: (total_tokens, ...) + int32 cu_seqlens.
 * Every output (out, softmax_lse, gradients) is a caller-allocated tensor. Inputs are f16 or
 * bf16; softmax_lse and alibi_slopes are f32; cu_seqlens int32.
 *
 * Errors: every function returns a tileattn_status; on anything but TILEATTN_OK,
 * tileattn_last_error() gives a message naming the argument, what was expected and what was
 * given (valid on the calling thread until its next call into this library). Invalid input is
 * rejected before anything is launched, so no output is written. No C++ exception crosses this
 * boundary.
 *
 * `stream` is a CUstream/cudaStream_t (NULL: the legacy default stream) for the GPU library and
 * must be NULL for the CPU one. The GPU library is asynchronous like flash-attn: a call enqueues
 * its kernels on that stream and returns; outputs are complete in stream order. Workspace is
 * kept per stream and reused, so after the first call of a shape there is no device allocation
 * and no host wait (the varlen functions still read cu_seqlens back to validate them).
 */
#ifndef TILEATTN_CAPI_TILEATTN_H_
#define TILEATTN_CAPI_TILEATTN_H_

#include <dlpack/dlpack.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or a struct below changes; callers compare it with the value they
 * were written for (tileattn_abi_version()). */
#define TILEATTN_ABI_VERSION 1

typedef enum {
  TILEATTN_OK = 0,
  TILEATTN_INVALID_ARGUMENT = 1, /* bad shape, dtype, device, option...; nothing was written */
  TILEATTN_UNAVAILABLE = 2,      /* no CUDA driver or GPU (GPU library) */
  TILEATTN_RUNTIME_ERROR = 3,    /* a failure while running (driver error, ...) */
} tileattn_status;

/* flash-attn's keyword options. Initialise with tileattn_default_options(). */
typedef struct {
  double softmax_scale;         /* used when has_softmax_scale != 0; else 1/sqrt(head_dim) */
  int32_t has_softmax_scale;
  int32_t causal;
  int32_t window_left;          /* window_size=(left, right); -1 is unbounded */
  int32_t window_right;
  double softcap;               /* 0 disables */
  const DLTensor* alibi_slopes; /* f32 (nheads) or (batch, nheads); NULL disables */
  int32_t deterministic;        /* backward: dQ without atomics */
} tileattn_options;

int32_t tileattn_abi_version(void);
/* "gpu" or "interp": which of the two libraries this is. */
const char* tileattn_backend_name(void);
const char* tileattn_last_error(void);
tileattn_options tileattn_default_options(void);

/* ---- forward: out like q (last dim head_dim_v), softmax_lse f32 (batch, nheads, seqlen_q) or
 * varlen (nheads, total_q) ---------------------------------------------------------------------*/
tileattn_status tileattn_fwd(const DLTensor* q, const DLTensor* k, const DLTensor* v, const DLTensor* out,
                             const DLTensor* softmax_lse, const tileattn_options* options, void* stream);
tileattn_status tileattn_fwd_qkvpacked(const DLTensor* qkv, const DLTensor* out, const DLTensor* softmax_lse,
                                       const tileattn_options* options, void* stream);
tileattn_status tileattn_fwd_kvpacked(const DLTensor* q, const DLTensor* kv, const DLTensor* out,
                                      const DLTensor* softmax_lse, const tileattn_options* options, void* stream);
tileattn_status tileattn_fwd_varlen(const DLTensor* q, const DLTensor* k, const DLTensor* v,
                                    const DLTensor* cu_seqlens_q, const DLTensor* cu_seqlens_k, int32_t max_seqlen_q,
                                    int32_t max_seqlen_k, const DLTensor* out, const DLTensor* softmax_lse,
                                    const tileattn_options* options, void* stream);
tileattn_status tileattn_fwd_varlen_qkvpacked(const DLTensor* qkv, const DLTensor* cu_seqlens, int32_t max_seqlen,
                                              const DLTensor* out, const DLTensor* softmax_lse,
                                              const tileattn_options* options, void* stream);

/* ---- backward: gradients shaped like the inputs they belong to (dqkv like qkv, dkv like kv);
 * out and softmax_lse are the forward's ------------------------------------------------------*/
tileattn_status tileattn_bwd(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                             const DLTensor* out, const DLTensor* softmax_lse, const DLTensor* dq,
                             const DLTensor* dk, const DLTensor* dv, const tileattn_options* options, void* stream);
tileattn_status tileattn_bwd_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                       const DLTensor* softmax_lse, const DLTensor* dqkv,
                                       const tileattn_options* options, void* stream);
tileattn_status tileattn_bwd_kvpacked(const DLTensor* dout, const DLTensor* q, const DLTensor* kv,
                                      const DLTensor* out, const DLTensor* softmax_lse, const DLTensor* dq,
                                      const DLTensor* dkv, const tileattn_options* options, void* stream);
tileattn_status tileattn_bwd_varlen(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                                    const DLTensor* out, const DLTensor* softmax_lse, const DLTensor* cu_seqlens_q,
                                    const DLTensor* cu_seqlens_k, int32_t max_seqlen_q, int32_t max_seqlen_k,
                                    const DLTensor* dq, const DLTensor* dk, const DLTensor* dv,
                                    const tileattn_options* options, void* stream);
tileattn_status tileattn_bwd_varlen_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                              const DLTensor* softmax_lse, const DLTensor* cu_seqlens,
                                              int32_t max_seqlen, const DLTensor* dqkv,
                                              const tileattn_options* options, void* stream);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  /* TILEATTN_CAPI_TILEATTN_H_ */
