// Whether strided tensor views share memory. The API refuses outputs that overlap an input or
// another output, and outputs whose elements overlap each other: a kernel program may then read
// what another program has already overwritten, or two programs race on one element, and the
// result silently depends on scheduling.
//
// The answer is exact for the layouts that occur in practice (disjoint allocations; slices of one
// packed or fused tensor, such as dq/dk/dv of a (batch, seqlen, 3, heads, dim) gradient, which
// share strides): it solves offset(a) == offset(b) over the index boxes of both views. For views
// of different dtypes or with different strides along a dimension it is conservative: any shared
// byte range counts as overlap.
#pragma once

#include "dsl/core/tensor_view.h"

namespace tile::attention {

// True when some byte belongs to an element of `a` and an element of `b`. Empty views share
// nothing.
bool views_overlap(const TensorView& a, const TensorView& b);

// True when two different indices of `t` reach the same element (a zero stride along a dimension
// of size > 1, or strides that interleave).
bool view_overlaps_itself(const TensorView& t);

}  // namespace tile::attention
