// Ring attention (ring-flash-attention's algorithm) over a Transport and an AttentionStepBackend.
//
// Every rank passes its own shard of the sequence: q (b, s_local, h_q, d), k/v (b, s_local, h_k, d)
// in f16 or bf16 (any float works), h_q % h_k == 0. For ring, rank r holds global tokens
// [r * s_local, (r + 1) * s_local); for zigzag, the sequence is cut into 2W chunks and rank r holds
// chunks r and 2W-1-r, in that order; for stripe, rank r holds tokens r, r+W, r+2W, ...
// (sequence_split.h shards and gathers). Ulysses and USP: usp_attention.h. Every rank calls the
// same function with the same options; results are this rank's shard.
//
// Forward: K/V travel the ring (next rank receives), the next block is posted before the current
// one is computed (double buffers), partial outputs are merged in fp32 with the stable LSE rule
// (lse_merge.h). Backward (flash-attn style: takes the merged out and lse): dQ accumulates locally
// in fp32; dK/dV accumulate in fp32 on a second ring travelling with their K/V and arrive home
// after W hops.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "distributed/device_tensor.h"
#include "distributed/ring_schedule.h"
#include "distributed/step_backend.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

struct RingAttnOptions {
  std::optional<double> softmax_scale;  // default 1 / sqrt(head_size)
  bool causal = false;
  // flash-attn's variants. Softcap maps each score alone: every mode runs it. Window and ALiBi
  // depend on global positions: Ulysses only (usp_attention.h with ring degree 1), where a step
  // sees whole rows; a ring step sees a block of keys at positions the API cannot know, so the
  // ring rejects them (std::invalid_argument naming the option).
  int window_left = -1, window_right = -1;  // window_size; -1 unbounded
  double softcap = 0.0;                     // 0: off
  TensorView alibi_slopes;                  // f32 (h_q) or (b, h_q), all heads, backend memory
  // A registered variant (attention/variants; one name or several joined by '+') and its
  // arguments by name, given whole as for the single-device API over the whole problem (every
  // head, every token of the global sequence; backend memory). Ulysses runs any of them;
  // the ring and USP with R > 1 reject one that reads positions (dist_variant_args.h).
  std::string variant;
  attention::VariantArgs variant_args;
};

// The rank's communication and compute; buffers live on backend.ops().device().
struct RankContext {
  Transport& transport;
  AttentionStepBackend& backend;
};

struct RingForwardResult {
  DeviceTensor out;  // (b, s_local, h_q, d), q's dtype
  DeviceTensor lse;  // (b, h_q, s_local) f32, natural log
};

struct RingGradients {
  DeviceTensor dq, dk, dv;  // layouts of q, k, v (contiguous), q's dtype
  // d loss / d each trainable variant argument (ArgSpec::with_grad) by name: f32, the shape
  // the argument was given in, the whole tensor, the same on every rank.
  std::map<std::string, DeviceTensor> variant_grads;
};

RingForwardResult ring_attention_forward(RingMode mode, RankContext ctx, const TensorView& q, const TensorView& k,
                                         const TensorView& v, const RingAttnOptions& options);
RingGradients ring_attention_backward(RingMode mode, RankContext ctx, const TensorView& dout, const TensorView& q,
                                      const TensorView& k, const TensorView& v, const TensorView& out,
                                      const TensorView& lse, const RingAttnOptions& options);

// qkv (b, s_local, 3, h, d); the gradient comes back packed the same way.
RingForwardResult ring_attention_qkvpacked_forward(RingMode mode, RankContext ctx, const TensorView& qkv,
                                                   const RingAttnOptions& options);
DeviceTensor ring_attention_qkvpacked_backward(RingMode mode, RankContext ctx, const TensorView& dout,
                                               const TensorView& qkv, const TensorView& out, const TensorView& lse,
                                               const RingAttnOptions& options);

// ring-flash-attention's names.
inline RingForwardResult ring_flash_attn_func(RankContext ctx, const TensorView& q, const TensorView& k,
                                              const TensorView& v, const RingAttnOptions& o) {
  return ring_attention_forward(RingMode::ring, ctx, q, k, v, o);
}
inline RingGradients ring_flash_attn_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                              const TensorView& k, const TensorView& v, const TensorView& out,
                                              const TensorView& lse, const RingAttnOptions& o) {
  return ring_attention_backward(RingMode::ring, ctx, dout, q, k, v, out, lse, o);
}
inline RingForwardResult ring_flash_attn_qkvpacked_func(RankContext ctx, const TensorView& qkv,
                                                        const RingAttnOptions& o) {
  return ring_attention_qkvpacked_forward(RingMode::ring, ctx, qkv, o);
}
inline DeviceTensor ring_flash_attn_qkvpacked_backward(RankContext ctx, const TensorView& dout, const TensorView& qkv,
                                                       const TensorView& out, const TensorView& lse,
                                                       const RingAttnOptions& o) {
  return ring_attention_qkvpacked_backward(RingMode::ring, ctx, dout, qkv, out, lse, o);
}
inline RingForwardResult zigzag_ring_flash_attn_func(RankContext ctx, const TensorView& q, const TensorView& k,
                                                     const TensorView& v, const RingAttnOptions& o) {
  return ring_attention_forward(RingMode::zigzag, ctx, q, k, v, o);
}
inline RingGradients zigzag_ring_flash_attn_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                                     const TensorView& k, const TensorView& v, const TensorView& out,
                                                     const TensorView& lse, const RingAttnOptions& o) {
  return ring_attention_backward(RingMode::zigzag, ctx, dout, q, k, v, out, lse, o);
}
inline RingForwardResult zigzag_ring_flash_attn_qkvpacked_func(RankContext ctx, const TensorView& qkv,
                                                               const RingAttnOptions& o) {
  return ring_attention_qkvpacked_forward(RingMode::zigzag, ctx, qkv, o);
}
inline DeviceTensor zigzag_ring_flash_attn_qkvpacked_backward(RankContext ctx, const TensorView& dout,
                                                              const TensorView& qkv, const TensorView& out,
                                                              const TensorView& lse, const RingAttnOptions& o) {
  return ring_attention_qkvpacked_backward(RingMode::zigzag, ctx, dout, qkv, out, lse, o);
}

}  // namespace dist
}  // namespace tile
