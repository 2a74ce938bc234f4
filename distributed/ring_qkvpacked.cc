// The qkvpacked entry points: views into the packed tensor in, a packed gradient out.
#include <stdexcept>

#include "distributed/ring_attention.h"

namespace tile {
namespace dist {
namespace {

std::array<TensorView, 3> unpack(const TensorView& qkv) {
  if (qkv.rank != 5 || qkv.size(2) != 3)
    throw std::invalid_argument("qkv: expected (batch, seqlen, 3, nheads, head_size), got " + qkv.shape_str());
  return split_qkvpacked(qkv);
}

}  // namespace

RingForwardResult ring_attention_qkvpacked_forward(RingMode mode, RankContext ctx, const TensorView& qkv,
                                                   const RingAttnOptions& options) {
  const auto p = unpack(qkv);
  return ring_attention_forward(mode, ctx, p[0], p[1], p[2], options);
}

DeviceTensor ring_attention_qkvpacked_backward(RingMode mode, RankContext ctx, const TensorView& dout,
                                               const TensorView& qkv, const TensorView& out, const TensorView& lse,
                                               const RingAttnOptions& options) {
  const auto p = unpack(qkv);
  RingGradients g = ring_attention_backward(mode, ctx, dout, p[0], p[1], p[2], out, lse, options);
  TensorOps& ops = ctx.backend.ops();
  DeviceTensor dqkv = ops.empty(qkv.dtype, qkv.sizes());
  const auto d = split_qkvpacked(dqkv.view);
  ops.copy(d[0], g.dq.view);
  ops.copy(d[1], g.dk.view);
  ops.copy(d[2], g.dv.view);
  return dqkv;
}

}  // namespace dist
}  // namespace tile
