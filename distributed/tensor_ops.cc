#include "distributed/tensor_ops.h"

#include <stdexcept>
#include <string>

namespace tile {
namespace dist {

void check_same_shape(const TensorView& a, const TensorView& b, const char* what) {
  if (a.sizes() != b.sizes())
    throw std::invalid_argument(std::string(what) + ": shapes differ, " + a.shape_str() + " vs " + b.shape_str());
}

void check_merge_partial_args(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                              const TensorView& block_lse) {
  check_same_shape(out, block_out, "merge_partial out/block_out");
  check_same_shape(lse, block_lse, "merge_partial lse/block_lse");
  if (out.dtype != DType::f32 || lse.dtype != DType::f32 || block_lse.dtype != DType::f32)
    throw std::invalid_argument("merge_partial: expected f32 out, lse and block_lse, got " + describe(out) + ", " +
                                describe(lse) + ", " + describe(block_lse));
  if (out.rank != 4 || lse.rank != 3 || lse.size(0) != out.size(0) || lse.size(1) != out.size(2) ||
      lse.size(2) != out.size(1))
    throw std::invalid_argument("merge_partial: expected out (b, s, h, d) and lse (b, h, s), got " + out.shape_str() +
                                " and " + lse.shape_str());
}

}  // namespace dist
}  // namespace tile
