// The launches of distributed/kernels' element-wise kernels (copy/convert, fill, fp32
// accumulate, LSE merge) for given views, as attention::KernelCall values: the GPU TensorOps runs
// them from its compiled images, and the CPU interpreter runs the same calls in CI, which checks
// the kernels against CpuTensorOps without a GPU.
//
// Views of any strides (non-negative) are accepted: rank <= 4 views are walked as 4-D (leading
// dims of size 1 added); a rank-5 view is accepted when two adjacent dims merge into one.
// Throws std::invalid_argument naming the operation for shapes, dtypes or extents the kernels do
// not take (offsets must fit in 32 bits).
#pragma once

#include <string>

#include "attention/host/backend.h"
#include "dsl/core/tensor_view.h"

namespace tile {
namespace dist {

// dst = src converted (round to nearest); bf16, f16 or f32 each.
attention::KernelCall copy_call(const TensorView& dst, const TensorView& src);
// dst = value.
attention::KernelCall fill_call(const TensorView& dst, float value);
// acc (f32) += src.
attention::KernelCall accumulate_call(const TensorView& acc, const TensorView& src);
// lse_merge.h's rule: out (b, s, h, d) f32, lse (b, h, s) f32, block_out (b, s, h, d) any float,
// block_lse (b, h, s) f32.
attention::KernelCall merge_call(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                                 const TensorView& block_lse);

// The compiled instance a call runs: kernel + "__" + its params with "=" dropped, "," -> "_",
// lowercased (distributed/kernels/elementwise_instances.bzl names them so).
std::string elementwise_instance_name(const attention::KernelCall& call);

}  // namespace dist
}  // namespace tile
