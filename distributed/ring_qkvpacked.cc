// The qkvpacked entry points: views into the packed tensor in, a packed gradient out.
#include "distributed/qkv_packing.h"
#include "distributed/ring_attention.h"

namespace tile {
namespace dist {

RingForwardResult ring_attention_qkvpacked_forward(RingMode mode, RankContext ctx, const TensorView& qkv,
                                                   const RingAttnOptions& options) {
  const auto p = unpack_qkv(qkv);
  return ring_attention_forward(mode, ctx, p[0], p[1], p[2], options);
}

DeviceTensor ring_attention_qkvpacked_backward(RingMode mode, RankContext ctx, const TensorView& dout,
                                               const TensorView& qkv, const TensorView& out, const TensorView& lse,
                                               const RingAttnOptions& options) {
  const auto p = unpack_qkv(qkv);
  RingGradients g = ring_attention_backward(mode, ctx, dout, p[0], p[1], p[2], out, lse, options);
  return pack_qkv_gradients(ctx.backend.ops(), qkv, g);
}

}  // namespace dist
}  // namespace tile
