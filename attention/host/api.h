// flash-attn's Python API in C++, over plain tensor views, running on any Backend (the CPU
// interpreter or the H100). Shapes follow flash-attn:
//   q, k, v  (batch, seqlen, nheads, head_dim)         qkv (batch, seqlen, 3, nheads, head_dim)
//   kv       (batch, seqlen, 2, nheads_k, head_dim)     varlen: the batch and seqlen dims become
//   one dim of total tokens, with int32 cu_seqlens (batch + 1) prefix sums.
// Outputs are written into caller-provided views: out like q, softmax_lse f32 (batch, nheads,
// seqlen_q) or varlen (nheads, total_q). Everything is validated before anything is launched:
// bad input throws std::invalid_argument naming the argument, what was expected and what was
// given, and nothing is written. Outputs (out, softmax_lse, dq, dk, dv) may not share memory
// with any input, with each other, or with themselves (two indices on one element).
//
// Asynchronous like flash-attn: on the GPU a call returns once its kernels are queued on the
// backend's stream, without waiting for them; its outputs are complete in that stream's order
// (Backend::read copies in it; anything else reading them calls Backend::synchronize() first).
// Inputs and outputs must stay allocated until the work is done.
//
// Edge cases (README, "Edge cases"): empty batches and sequences are valid (out = 0 where a
// query has no key, gradients of an empty side are 0); a row that sees no key gets out = 0 and
// softmax_lse = -inf (flash-attn writes +inf); any finite softmax_scale, 0 included, is valid.
#pragma once

#include <optional>

#include "attention/host/backend.h"
#include "attention/host/block_mask.h"
#include "attention/variants/variant_spec.h"
#include "dsl/core/tensor_view.h"

namespace tile::attention {

struct FlashAttnOptions {
  std::optional<double> softmax_scale;  // default 1/sqrt(head_dim)
  bool causal = false;                  // bottom-right aligned when seqlen_q != seqlen_k
  int window_left = -1, window_right = -1;  // window_size; -1 is unbounded
  double softcap = 0.0;                 // 0 disables
  TensorView alibi_slopes;              // f32 (nheads) or (batch, nheads); undefined disables
                                        // (the "alibi" variant, chained before `variant`)
  bool deterministic = false;           // backward: dQ without atomics, bit-reproducible
  // A registered variant (attention/variants) by name, or several joined by '+'; empty: plain
  // attention. Its arguments by name (variant_spec.h): tensors on the backend's device, numbers.
  std::string variant;
  VariantArgs variant_args;
  // A block mask of `variant` (block_mask.h: create_block_mask) for calls of this shape: only
  // its non-empty blocks are visited, its full ones without evaluating the mask. Not owned.
  const BlockMask* block_mask = nullptr;
};

// Optional varlen description (cu_seqlens are int32 views of batch + 1 elements).
struct VarlenSeqs {
  TensorView cu_seqlens_q, cu_seqlens_k;
  int max_seqlen_q = 0, max_seqlen_k = 0;
};

// ---- forward --------------------------------------------------------------------------------
void flash_attn_func(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                     const TensorView& out, const TensorView& softmax_lse, const FlashAttnOptions& o = {});
void flash_attn_qkvpacked_func(Backend& be, const TensorView& qkv, const TensorView& out,
                               const TensorView& softmax_lse, const FlashAttnOptions& o = {});
void flash_attn_kvpacked_func(Backend& be, const TensorView& q, const TensorView& kv, const TensorView& out,
                              const TensorView& softmax_lse, const FlashAttnOptions& o = {});
void flash_attn_varlen_func(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                            const VarlenSeqs& seqs, const TensorView& out, const TensorView& softmax_lse,
                            const FlashAttnOptions& o = {});
void flash_attn_varlen_qkvpacked_func(Backend& be, const TensorView& qkv, const TensorView& cu_seqlens,
                                      int max_seqlen, const TensorView& out, const TensorView& softmax_lse,
                                      const FlashAttnOptions& o = {});

// ---- backward (gradients written into dq, dk, dv shaped like q, k, v; for packed inputs pass
// the views of the packed gradient, e.g. split_qkvpacked(dqkv)) --------------------------------
struct AttnGradViews {
  TensorView dq, dk, dv;
  // d loss / d each trainable variant argument (ArgSpec::with_grad) by name: f32, contiguous,
  // shaped like the argument; overwritten. One not given is computed and dropped.
  VariantArgs variant_grads;
};
void flash_attn_backward(Backend& be, const TensorView& dout, const TensorView& q, const TensorView& k,
                         const TensorView& v, const TensorView& out, const TensorView& softmax_lse,
                         const AttnGradViews& grads, const FlashAttnOptions& o = {});
void flash_attn_varlen_backward(Backend& be, const TensorView& dout, const TensorView& q, const TensorView& k,
                                const TensorView& v, const TensorView& out, const TensorView& softmax_lse,
                                const VarlenSeqs& seqs, const AttnGradViews& grads,
                                const FlashAttnOptions& o = {});

}  // namespace tile::attention
