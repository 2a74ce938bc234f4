// Validation and views shared by the ring forward and backward.
#pragma once

#include "distributed/ring_attention.h"

namespace tile {
namespace dist {

struct RingShape {
  int64_t batch = 0, seq = 0, nheads_q = 0, nheads_k = 0, head_size = 0;
  DType dtype = DType::bf16;
  double scale = 1.0;
};

// Checks q/k/v (and the transport/backend pairing) and throws std::invalid_argument naming the
// argument, the expected and the actual.
RingShape check_ring_inputs(RingMode mode, RankContext ctx, const TensorView& q, const TensorView& k,
                            const TensorView& v, const RingAttnOptions& options);

// The rows of a (b, s, h, d) tensor (seq_dim 1) or of an lse (b, h, s) (seq_dim 2) a step uses.
TensorView shard_part(const TensorView& t, int seq_dim, ShardPart part);

// False when a step's query or key rows are empty (stripe's shifted step on a one-row shard).
bool step_has_rows(const StepPlan& plan, int64_t local_seq);

// ring_attention_backward with the gradients in grad_dtype; f32 returns the fp32 accumulators
// unrounded (USP sums replicated k/v heads' gradients before rounding once).
RingGradients ring_backward_as(RingMode mode, RankContext ctx, const TensorView& dout, const TensorView& q,
                               const TensorView& k, const TensorView& v, const TensorView& out, const TensorView& lse,
                               const RingAttnOptions& options, DType grad_dtype);

// The shape of t with its dims as a vector.
inline std::vector<int64_t> shape_of(const TensorView& t) { return t.sizes(); }

}  // namespace dist
}  // namespace tile
