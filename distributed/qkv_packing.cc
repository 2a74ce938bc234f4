#include "distributed/qkv_packing.h"

#include <stdexcept>

namespace tile {
namespace dist {

std::array<TensorView, 3> unpack_qkv(const TensorView& qkv) {
  if (qkv.rank != 5 || qkv.size(2) != 3)
    throw std::invalid_argument("qkv: expected (batch, seqlen, 3, nheads, head_size), got " + qkv.shape_str());
  return split_qkvpacked(qkv);
}

DeviceTensor pack_qkv_gradients(TensorOps& ops, const TensorView& qkv, const RingGradients& g) {
  DeviceTensor dqkv = ops.empty(qkv.dtype, qkv.sizes());
  const auto d = split_qkvpacked(dqkv.view);
  ops.copy(d[0], g.dq.view);
  ops.copy(d[1], g.dk.view);
  ops.copy(d[2], g.dv.view);
  return dqkv;
}

}  // namespace dist
}  // namespace tile
