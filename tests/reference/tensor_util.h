// Small helpers for the reference tests: tensors from literal values.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "dsl/core/tensor_view.h"

namespace tile {
namespace testing {

inline HostTensor tensor_of(DType dtype, const std::vector<int64_t>& shape, const std::vector<double>& values) {
  HostTensor t(dtype, shape);
  for (size_t e = 0; e < values.size() && static_cast<int64_t>(e) < t.numel(); ++e) t.set_at(static_cast<int64_t>(e), values[e]);
  return t;
}

inline HostTensor cu_seqlens(const std::vector<double>& values) {
  return tensor_of(DType::i32, {static_cast<int64_t>(values.size())}, values);
}

inline bool has_nan(const HostTensor& t) {
  for (int64_t e = 0; e < t.numel(); ++e)
    if (std::isnan(t.at(e))) return true;
  return false;
}

inline double max_abs_diff(const HostTensor& a, const HostTensor& b) {
  double m = 0.0;
  for (int64_t e = 0; e < a.numel(); ++e) {
    const double x = a.at(e), y = b.at(e);
    if (x == y) continue;
    const double d = std::fabs(x - y);
    m = std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(m, d);
  }
  return m;
}

inline double max_abs(const HostTensor& a) {
  double m = 0.0;
  for (int64_t e = 0; e < a.numel(); ++e) m = std::max(m, std::fabs(a.at(e)));
  return m;
}

}  // namespace testing
}  // namespace tile
