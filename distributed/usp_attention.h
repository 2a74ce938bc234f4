// Sequence parallelism with all-to-all: DeepSpeed-Ulysses and the USP hybrid (yunchang /
// long-context-attention's LongContextAttention), over the same Transport and step backend as
// the ring.
//
//   Ulysses: each rank holds a contiguous piece of the sequence with every head. An all-to-all
//     gives each rank the whole sequence for heads / U of the heads, one call of the single-GPU
//     attention runs on it (causal, sliding window, softcap, ALiBi, registered variants with their
//     arguments cut to the rank's heads by dist_variant_args.h: RingAttnOptions), and a second
//     all-to-all brings the output back to the sequence pieces.
//   USP: a 2-D grid of U x R ranks (sequence_split.h's SequenceLayout): Ulysses inside each
//     group of U consecutive ranks, then ring attention (ring, zigzag or stripe) across the R
//     ranks holding the same heads. Softcap and variants that read no positions run at any R;
//     window, ALiBi and the other registered variants need R = 1.
//
// q (b, s_local, h_q, d), k/v (b, s_local, h_k, d). h_q must divide by U; h_k must divide by U or
// U by h_k: with fewer k/v heads than ranks (GQA/MQA) each k/v head is replicated to the ranks
// whose query heads use it, and its dK/dV are summed back (ulysses_exchange.h). Results are this
// rank's piece, like the ring's: out (b, s_local, h_q, d) in q's dtype, lse (b, h_q, s_local) f32.
// Partial outputs of the ring merge in fp32; Ulysses alone has no partials.
#pragma once

#include <memory>

#include "distributed/ring_attention.h"
#include "distributed/sequence_split.h"

namespace tile {
namespace dist {

// The two sub-groups of this rank: its Ulysses group (U consecutive ranks) and its ring group
// (the R ranks with the same position in their Ulysses group).
struct UspGroups {
  std::unique_ptr<Transport> ulysses, ring;
};

// Collective over `world` (Transport::split twice). Throws std::invalid_argument naming
// ulysses_degree when it does not divide the world size.
UspGroups make_usp_groups(Transport& world, int ulysses_degree);

struct UspContext {
  Transport& ulysses;  // this rank's Ulysses group
  Transport& ring;     // this rank's ring group
  AttentionStepBackend& backend;
};

RingForwardResult usp_attention_forward(RingMode ring_split, UspContext ctx, const TensorView& q, const TensorView& k,
                                        const TensorView& v, const RingAttnOptions& options);
RingGradients usp_attention_backward(RingMode ring_split, UspContext ctx, const TensorView& dout, const TensorView& q,
                                     const TensorView& k, const TensorView& v, const TensorView& out,
                                     const TensorView& lse, const RingAttnOptions& options);

// qkv (b, s_local, 3, h, d); the gradient comes back packed the same way.
RingForwardResult usp_attention_qkvpacked_forward(RingMode ring_split, UspContext ctx, const TensorView& qkv,
                                                  const RingAttnOptions& options);
DeviceTensor usp_attention_qkvpacked_backward(RingMode ring_split, UspContext ctx, const TensorView& dout,
                                              const TensorView& qkv, const TensorView& out, const TensorView& lse,
                                              const RingAttnOptions& options);

// Plain Ulysses: the whole transport is one Ulysses group (ring degree 1).
RingForwardResult ulysses_attention_forward(RankContext ctx, const TensorView& q, const TensorView& k,
                                            const TensorView& v, const RingAttnOptions& options);
RingGradients ulysses_attention_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                         const TensorView& k, const TensorView& v, const TensorView& out,
                                         const TensorView& lse, const RingAttnOptions& options);

// Varlen Ulysses (flash-attn's *_varlen_* layouts): the packed tokens of all sequences,
// (total, h, d), are split contiguously over the ranks (total % W == 0; a sequence may straddle
// ranks); each rank passes its (total / W, h, d) piece and the global cu_seqlens (int32,
// batch + 1, on the backend's memory, the same on every rank). lse is (h_q, total / W).
struct VarlenSequences {
  TensorView cu_seqlens;  // for q and k alike (self-attention)
  int max_seqlen = 0;
};
RingForwardResult ulysses_attention_varlen_forward(RankContext ctx, const TensorView& q, const TensorView& k,
                                                   const TensorView& v, const VarlenSequences& seqs,
                                                   const RingAttnOptions& options);
RingGradients ulysses_attention_varlen_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                                const TensorView& k, const TensorView& v, const TensorView& out,
                                                const TensorView& lse, const VarlenSequences& seqs,
                                                const RingAttnOptions& options);

}  // namespace dist
}  // namespace tile
