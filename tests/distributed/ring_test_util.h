// Shared helpers of the distributed tests: random inputs, host tensors through CPU backends,
// max differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "attention/reference/random_inputs.h"
#include "dsl/core/tensor_view.h"

namespace tile {
namespace dist {
namespace testing {

inline double max_abs_diff(const TensorView& a, const TensorView& b) {
  double m = 0.0;
  const HostTensor x = to_host_tensor(a, DType::f64), y = to_host_tensor(b, DType::f64);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double d = std::fabs(x.at(i) - y.at(i));
    if (std::isnan(d)) return INFINITY;
    m = std::max(m, d);
  }
  return m;
}

inline reference::OwnedInputs random_inputs(int64_t batch, int64_t seq, int64_t hq, int64_t hk, int64_t d, DType dtype,
                                            uint64_t seed) {
  reference::AttnShape s;
  s.batch = batch;
  s.seqlen_q = s.seqlen_k = seq;
  s.nheads_q = hq;
  s.nheads_k = hk;
  s.headdim = d;
  s.dtype = dtype;
  return reference::make_random_inputs(s, seed);
}

}  // namespace testing
}  // namespace dist
}  // namespace tile
