// The packed (batch, seqlen, 3, nheads, head_dim) form of every sequence-parallel entry point:
// its q, k, v views, and the packed gradient built from separate dq, dk, dv.
#pragma once

#include <array>

#include "distributed/ring_attention.h"

namespace tile {
namespace dist {

// Throws std::invalid_argument naming qkv when it is not (batch, seqlen, 3, nheads, head_dim).
std::array<TensorView, 3> unpack_qkv(const TensorView& qkv);

// A new tensor shaped like qkv holding dq, dk, dv in its three slots.
DeviceTensor pack_qkv_gradients(TensorOps& ops, const TensorView& qkv, const RingGradients& g);

}  // namespace dist
}  // namespace tile
