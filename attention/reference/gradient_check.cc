#include "attention/reference/gradient_check.h"

#include <cmath>
#include <stdexcept>

#include "attention/reference/direct_attention.h"
#include "attention/reference/reference_fp64.h"

namespace tile {
namespace reference {
namespace {

double loss(const AttnInputs& in, const AttnOptions& opt, const TensorView& dout) {
  const HostTensor out = direct_attention_forward(in, opt).out;
  double l = 0.0;
  for (int64_t e = 0; e < out.numel(); ++e) l += out.at(e) * load_as_double(dout.dtype, dout.data, dout.offset_of_linear(e));
  return l;
}

}  // namespace

GradientCheck check_gradients_by_finite_differences(const AttnInputs& in, const AttnOptions& opt,
                                                    const TensorView& dout, double step) {
  for (const TensorView* t : {&in.q, &in.k, &in.v})
    if (t->dtype != DType::f64) throw std::invalid_argument("finite differences: expected f64 q, k, v, got " + std::string(dtype_name(t->dtype)));
  const AttnGrads grads = attention_backward(in, opt, dout);
  GradientCheck result;
  const struct { const TensorView* input; const HostTensor* grad; const char* name; } pairs[] = {
      {&in.q, &grads.dq, "dq"}, {&in.k, &grads.dk, "dk"}, {&in.v, &grads.dv, "dv"}};
  for (const auto& pair : pairs) {
    const TensorView& x = *pair.input;
    for (int64_t e = 0; e < x.numel(); ++e) {
      const int64_t off = x.offset_of_linear(e);
      const double saved = load_as_double(DType::f64, x.data, off);
      store_from_double(DType::f64, x.data, off, saved + step);
      const double up = loss(in, opt, dout);
      store_from_double(DType::f64, x.data, off, saved - step);
      const double down = loss(in, opt, dout);
      store_from_double(DType::f64, x.data, off, saved);
      const double numeric = (up - down) / (2.0 * step);
      const double analytic = pair.grad->at(e);
      const double err = std::fabs(numeric - analytic);
      result.max_abs_grad = std::max(result.max_abs_grad, std::fabs(analytic));
      if (err > result.max_abs_error || !(err == err)) {
        result.max_abs_error = err;
        result.worst = std::string(pair.name) + "[" + std::to_string(e) + "]";
      }
      ++result.elements;
    }
  }
  return result;
}

}  // namespace reference
}  // namespace tile
