/* A C ABI library (attention/capi/tileattn.h) whose entry points return TILEATTN_OK at once and
 * touch nothing: loaded as the CPU library ($TILEATTN_CPU_LIBRARY), it lets
 * `benchmark_flash_attn.py --python_overhead --device cpu` time the Python package's own host
 * work per call on any machine. (The interpreter's time per call, about 1 ms, varies by more
 * than the few microseconds measured.) */
#include "attention/capi/tileattn.h"

int32_t tileattn_abi_version(void) { return TILEATTN_ABI_VERSION; }
const char* tileattn_backend_name(void) { return "noop"; }
const char* tileattn_last_error(void) { return ""; }

tileattn_options tileattn_default_options(void) {
  tileattn_options o = {0};
  o.window_left = -1;
  o.window_right = -1;
  return o;
}

tileattn_status tileattn_fwd(const DLTensor* q, const DLTensor* k, const DLTensor* v, const DLTensor* out,
                             const DLTensor* lse, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_fwd_qkvpacked(const DLTensor* qkv, const DLTensor* out, const DLTensor* lse,
                                       const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_fwd_kvpacked(const DLTensor* q, const DLTensor* kv, const DLTensor* out, const DLTensor* lse,
                                      const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_fwd_varlen(const DLTensor* q, const DLTensor* k, const DLTensor* v, const DLTensor* cu_q,
                                    const DLTensor* cu_k, int32_t max_q, int32_t max_k, const DLTensor* out,
                                    const DLTensor* lse, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_fwd_varlen_qkvpacked(const DLTensor* qkv, const DLTensor* cu, int32_t max_seqlen,
                                              const DLTensor* out, const DLTensor* lse, const tileattn_options* o,
                                              void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_bwd(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                             const DLTensor* out, const DLTensor* lse, const DLTensor* dq, const DLTensor* dk,
                             const DLTensor* dv, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_bwd_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                       const DLTensor* lse, const DLTensor* dqkv, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_bwd_kvpacked(const DLTensor* dout, const DLTensor* q, const DLTensor* kv, const DLTensor* out,
                                      const DLTensor* lse, const DLTensor* dq, const DLTensor* dkv,
                                      const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_bwd_varlen(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                                    const DLTensor* out, const DLTensor* lse, const DLTensor* cu_q, const DLTensor* cu_k,
                                    int32_t max_q, int32_t max_k, const DLTensor* dq, const DLTensor* dk,
                                    const DLTensor* dv, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
tileattn_status tileattn_bwd_varlen_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                              const DLTensor* lse, const DLTensor* cu, int32_t max_seqlen,
                                              const DLTensor* dqkv, const tileattn_options* o, void* s) {
  return TILEATTN_OK;
}
