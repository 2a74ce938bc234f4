// How a variant's tensor argument is laid out for one problem: per declared dim, its size and
// the stride (in elements) the kernels and the reference index it with. Shared by the host's
// launch binding, the fp64 reference and the argument generator, so all three read the same
// element for one index.
#pragma once

#include <vector>

#include "attention/variants/variant_spec.h"

namespace tile::attention {

struct DimLayout {
  int64_t size = 0;      // -1: a free dim (ArgDim::any) not yet known
  int64_t stride = 0;    // 0 when omitted or collapsed
  bool omitted = false;  // an optional batch dim the caller left out (broadcast)
  bool collapsed = false;  // the batch dim of a per-token pair under varlen (rows are packed)
  ArgDim token_of = ArgDim::any;  // seqlen_q / seqlen_k for a per-token dim (indexed by packed row)
};

// One entry per declared dim of `a` (a tensor). `given`: the caller's tensor, whose strides and
// free sizes fill the layout; without it strides are 0 and free sizes -1.
std::vector<DimLayout> dim_layouts(const ArgSpec& a, const ProblemDims& d, bool with_batch,
                                   const TensorView* given = nullptr);

}  // namespace tile::attention
