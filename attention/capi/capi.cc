// The extern "C" functions of tileattn.h over the host API (attention/host/api.h). Each call:
// DLPack -> TensorView, the backend of the first tensor's device, the host API call; every C++
// exception becomes a status and this thread's last-error message.
#include "attention/capi/tileattn.h"

#include <exception>
#include <stdexcept>
#include <string>

#include "attention/capi/backend_provider.h"
#include "attention/capi/dlpack_view.h"
#include "attention/host/api.h"
#include "dsl/runtime/cuda_driver.h"

namespace tile::attention::capi {
namespace {

thread_local std::string last_error;

// Runs `body`, turning what it throws into a status (no exception crosses the C ABI).
template <typename Body>
tileattn_status guarded(Body&& body) {
  try {
    body();
    last_error.clear();
    return TILEATTN_OK;
  } catch (const std::invalid_argument& e) {
    last_error = e.what();
    return TILEATTN_INVALID_ARGUMENT;
  } catch (const std::out_of_range& e) {
    last_error = e.what();
    return TILEATTN_INVALID_ARGUMENT;
  } catch (const rt::DriverUnavailable& e) {
    last_error = e.what();
    return TILEATTN_UNAVAILABLE;
  } catch (const std::exception& e) {
    last_error = e.what();
    return TILEATTN_RUNTIME_ERROR;
  } catch (...) {
    last_error = "unknown error";
    return TILEATTN_RUNTIME_ERROR;
  }
}

FlashAttnOptions options_of(const tileattn_options* o) {
  if (o == nullptr) throw std::invalid_argument("options: expected a tileattn_options (tileattn_default_options()), got NULL");
  FlashAttnOptions r;
  if (o->has_softmax_scale) r.softmax_scale = o->softmax_scale;
  r.causal = o->causal != 0;
  r.window_left = o->window_left;
  r.window_right = o->window_right;
  r.softcap = o->softcap;
  r.alibi_slopes = optional_view_of(o->alibi_slopes, "alibi_slopes");
  r.deterministic = o->deterministic != 0;
  return r;
}

VarlenSeqs seqs_of(const DLTensor* cu_q, const DLTensor* cu_k, int32_t max_q, int32_t max_k) {
  return VarlenSeqs{view_of(cu_q, "cu_seqlens_q"), view_of(cu_k, "cu_seqlens_k"), max_q, max_k};
}

// k and v inside a kv-packed (batch, seqlen, 2, nheads_k, head_dim) tensor.
std::array<TensorView, 2> split_kvpacked(const TensorView& kv, const char* name) {
  if (kv.rank != 5 || kv.size(2) != 2)
    throw std::invalid_argument(std::string(name) + ": expected shape (batch, seqlen, 2, nheads_k, head_dim), got " +
                                kv.shape_str());
  return {kv.select(2, 0), kv.select(2, 1)};
}

std::array<TensorView, 3> split_qkv(const TensorView& qkv, const char* name, int rank) {
  if (qkv.rank != rank)
    throw std::invalid_argument(std::string(name) + ": expected rank " + std::to_string(rank) + " (" +
                                (rank == 5 ? "batch, seqlen, 3, nheads, head_dim" : "total_tokens, 3, nheads, head_dim") +
                                "), got shape " + qkv.shape_str());
  return split_qkvpacked(qkv);
}

}  // namespace
}  // namespace tile::attention::capi

using namespace tile;
using namespace tile::attention;
using namespace tile::attention::capi;

extern "C" {

int32_t tileattn_abi_version(void) { return TILEATTN_ABI_VERSION; }
const char* tileattn_backend_name(void) { return backend_name(); }
const char* tileattn_last_error(void) { return last_error.c_str(); }

tileattn_options tileattn_default_options(void) {
  tileattn_options o{};
  o.window_left = -1;
  o.window_right = -1;
  return o;
}

tileattn_status tileattn_fwd(const DLTensor* q, const DLTensor* k, const DLTensor* v, const DLTensor* out,
                             const DLTensor* lse, const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_func(*be.backend, qv, view_of(k, "k"), view_of(v, "v"), view_of(out, "out"), view_of(lse, "softmax_lse"), o);
  });
}

tileattn_status tileattn_fwd_qkvpacked(const DLTensor* qkv, const DLTensor* out, const DLTensor* lse,
                                       const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView t = view_of(qkv, "qkv");
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(t.device, stream);
    flash_attn_qkvpacked_func(*be.backend, t, view_of(out, "out"), view_of(lse, "softmax_lse"), o);
  });
}

tileattn_status tileattn_fwd_kvpacked(const DLTensor* q, const DLTensor* kv, const DLTensor* out, const DLTensor* lse,
                                      const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_kvpacked_func(*be.backend, qv, view_of(kv, "kv"), view_of(out, "out"), view_of(lse, "softmax_lse"), o);
  });
}

tileattn_status tileattn_fwd_varlen(const DLTensor* q, const DLTensor* k, const DLTensor* v, const DLTensor* cu_q,
                                    const DLTensor* cu_k, int32_t max_q, int32_t max_k, const DLTensor* out,
                                    const DLTensor* lse, const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    FlashAttnOptions o = options_of(options);
    VarlenSeqs seqs = seqs_of(cu_q, cu_k, max_q, max_k);
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_varlen_func(*be.backend, qv, view_of(k, "k"), view_of(v, "v"), seqs, view_of(out, "out"),
                           view_of(lse, "softmax_lse"), o);
  });
}

tileattn_status tileattn_fwd_varlen_qkvpacked(const DLTensor* qkv, const DLTensor* cu_seqlens, int32_t max_seqlen,
                                              const DLTensor* out, const DLTensor* lse,
                                              const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView t = view_of(qkv, "qkv");
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(t.device, stream);
    flash_attn_varlen_qkvpacked_func(*be.backend, t, view_of(cu_seqlens, "cu_seqlens"), max_seqlen, view_of(out, "out"),
                                     view_of(lse, "softmax_lse"), o);
  });
}

tileattn_status tileattn_bwd(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                             const DLTensor* out, const DLTensor* lse, const DLTensor* dq, const DLTensor* dk,
                             const DLTensor* dv, const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    FlashAttnOptions o = options_of(options);
    AttnGradViews g{view_of(dq, "dq"), view_of(dk, "dk"), view_of(dv, "dv")};
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_backward(*be.backend, view_of(dout, "dout"), qv, view_of(k, "k"), view_of(v, "v"), view_of(out, "out"),
                        view_of(lse, "softmax_lse"), g, o);
  });
}

tileattn_status tileattn_bwd_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                       const DLTensor* lse, const DLTensor* dqkv, const tileattn_options* options,
                                       void* stream) {
  return guarded([&] {
    auto in = split_qkv(view_of(qkv, "qkv"), "qkv", 5);
    auto d = split_qkv(view_of(dqkv, "dqkv"), "dqkv", 5);
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(in[0].device, stream);
    flash_attn_backward(*be.backend, view_of(dout, "dout"), in[0], in[1], in[2], view_of(out, "out"),
                        view_of(lse, "softmax_lse"), AttnGradViews{d[0], d[1], d[2]}, o);
  });
}

tileattn_status tileattn_bwd_kvpacked(const DLTensor* dout, const DLTensor* q, const DLTensor* kv, const DLTensor* out,
                                      const DLTensor* lse, const DLTensor* dq, const DLTensor* dkv,
                                      const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    auto in = split_kvpacked(view_of(kv, "kv"), "kv");
    auto d = split_kvpacked(view_of(dkv, "dkv"), "dkv");
    FlashAttnOptions o = options_of(options);
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_backward(*be.backend, view_of(dout, "dout"), qv, in[0], in[1], view_of(out, "out"),
                        view_of(lse, "softmax_lse"), AttnGradViews{view_of(dq, "dq"), d[0], d[1]}, o);
  });
}

tileattn_status tileattn_bwd_varlen(const DLTensor* dout, const DLTensor* q, const DLTensor* k, const DLTensor* v,
                                    const DLTensor* out, const DLTensor* lse, const DLTensor* cu_q, const DLTensor* cu_k,
                                    int32_t max_q, int32_t max_k, const DLTensor* dq, const DLTensor* dk,
                                    const DLTensor* dv, const tileattn_options* options, void* stream) {
  return guarded([&] {
    TensorView qv = view_of(q, "q");
    FlashAttnOptions o = options_of(options);
    VarlenSeqs seqs = seqs_of(cu_q, cu_k, max_q, max_k);
    AttnGradViews g{view_of(dq, "dq"), view_of(dk, "dk"), view_of(dv, "dv")};
    BackendLease be = backend_for(qv.device, stream);
    flash_attn_varlen_backward(*be.backend, view_of(dout, "dout"), qv, view_of(k, "k"), view_of(v, "v"),
                               view_of(out, "out"), view_of(lse, "softmax_lse"), seqs, g, o);
  });
}

tileattn_status tileattn_bwd_varlen_qkvpacked(const DLTensor* dout, const DLTensor* qkv, const DLTensor* out,
                                              const DLTensor* lse, const DLTensor* cu_seqlens, int32_t max_seqlen,
                                              const DLTensor* dqkv, const tileattn_options* options, void* stream) {
  return guarded([&] {
    auto in = split_qkv(view_of(qkv, "qkv"), "qkv", 4);
    auto d = split_qkv(view_of(dqkv, "dqkv"), "dqkv", 4);
    FlashAttnOptions o = options_of(options);
    TensorView cu = view_of(cu_seqlens, "cu_seqlens");
    VarlenSeqs seqs{cu, cu, max_seqlen, max_seqlen};
    BackendLease be = backend_for(in[0].device, stream);
    flash_attn_varlen_backward(*be.backend, view_of(dout, "dout"), in[0], in[1], in[2], view_of(out, "out"),
                               view_of(lse, "softmax_lse"), seqs, AttnGradViews{d[0], d[1], d[2]}, o);
  });
}

}  // extern "C"
