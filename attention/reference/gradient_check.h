// Checks the reference's analytic gradients against central finite differences of
// L = sum(out * dout), with out from direct_attention_forward. For small problems only: two
// forward passes per input element.
#pragma once

#include <string>

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

struct GradientCheck {
  double max_abs_error = 0.0;  // max |analytic - finite difference| over every element of q, k, v
  double max_abs_grad = 0.0;   // scale of the gradients, to judge the error against
  std::string worst;           // "dk[17]": where the largest error is
  int64_t elements = 0;
};

// q, k and v must be writable f64 views (each element is nudged by +-step and restored).
GradientCheck check_gradients_by_finite_differences(const AttnInputs& inputs, const AttnOptions& options,
                                                    const TensorView& dout, double step = 1e-5);

}  // namespace reference
}  // namespace tile
