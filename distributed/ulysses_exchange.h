// DeepSpeed-Ulysses' all-to-all inside one group of U ranks: sequence shards <-> head shards.
// Before: each rank holds its piece of the group's sequence with every head. After: each rank
// holds the group's whole sequence (rank p's piece at rows [p*s, (p+1)*s)) with its slice of heads.
//
// Heads are split by HeadSplit: rank p gets heads [first(p), first(p) + per_rank()). When there
// are fewer heads than ranks (GQA/MQA k/v heads under a larger Ulysses degree) a head is
// replicated: rank p gets head p * heads / U, and on the way back the replicas' gradients are
// summed (in fp32, rounded once).
#pragma once

#include <cstdint>

#include "distributed/device_tensor.h"
#include "distributed/tensor_ops.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

struct HeadSplit {
  int64_t heads = 1;
  int degree = 1;

  // heads % degree == 0 (a slice per rank) or degree % heads == 0 (a replicated head per rank).
  bool valid() const { return heads > 0 && degree > 0 && (heads % degree == 0 || degree % heads == 0); }
  bool replicated() const { return heads < degree; }
  int64_t per_rank() const { return replicated() ? 1 : heads / degree; }
  int64_t first(int rank) const { return static_cast<int64_t>(rank) * heads / degree; }
};

// local: this rank's sequence piece, every head (sequence along seq_dim, heads along head_dim;
// (b, s, h, d) is 1, 2 and an lse (b, h, s) 2, 1). Returns the group's sequence with this rank's
// heads, contiguous, local's dtype.
DeviceTensor scatter_heads(Transport& group, TensorOps& ops, const TensorView& local, int seq_dim, int head_dim,
                           const HeadSplit& split);

// full: the group's sequence with this rank's heads (scatter_heads' result layout). Returns this
// rank's sequence piece with every head, in `dtype`; replicated heads are summed.
DeviceTensor gather_heads(Transport& group, TensorOps& ops, const TensorView& full, int seq_dim, int head_dim,
                          const HeadSplit& split, DType dtype);

}  // namespace dist
}  // namespace tile
