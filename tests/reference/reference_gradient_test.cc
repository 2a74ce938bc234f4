// The fp64 reference's analytic gradients against central finite differences, per feature.
#include <catch2/catch.hpp>

#include <algorithm>

#include "attention/reference/gradient_check.h"
#include "attention/reference/random_inputs.h"
#include "tests/reference/tensor_util.h"

using namespace tile;
using namespace tile::reference;

namespace {

AttnShape shape(int64_t b, int64_t sq, int64_t sk, int64_t hq, int64_t hk, int64_t d) {
  AttnShape s;
  s.batch = b, s.seqlen_q = sq, s.seqlen_k = sk, s.nheads_q = hq, s.nheads_k = hk, s.headdim = d;
  return s;
}

// Finite differences agree with the analytic gradients to ~1e-10; a wrong gradient term is off
// by far more than 1e-7.
void check_fd(const AttnShape& s, AttnOptions o, uint64_t seed, const std::vector<double>& alibi = {},
              std::vector<int64_t> alibi_shape = {}) {
  const OwnedInputs in = make_random_inputs(s, seed);
  HostTensor slopes;
  if (!alibi.empty()) {
    slopes = tile::testing::tensor_of(DType::f32, alibi_shape, alibi);
    o.alibi_slopes = slopes.view();
  }
  if (!o.softmax_scale) o.softmax_scale = 1.7;  // a peaked softmax, so gradients are not tiny
  const GradientCheck g = check_gradients_by_finite_differences(in.inputs(), o, in.dout.view());
  INFO("worst " << g.worst << ", max |grad| " << g.max_abs_grad);
  CHECK(g.max_abs_grad > 0.1);
  CHECK(g.max_abs_error < 1e-7 * std::max(1.0, g.max_abs_grad));
}

}  // namespace

TEST_CASE("gradients: plain, headdim_v != headdim", "[reference][grad]") {
  AttnShape s = shape(2, 4, 5, 2, 2, 3);
  s.headdim_v = 2;
  check_fd(s, {}, 1);
}

TEST_CASE("gradients: causal, seqlen_q != seqlen_k both ways", "[reference][grad]") {
  AttnOptions o;
  o.causal = true;
  check_fd(shape(1, 4, 6, 2, 2, 3), o, 2);
  check_fd(shape(1, 6, 4, 1, 1, 3), o, 3);
}

TEST_CASE("gradients: sliding window", "[reference][grad]") {
  AttnOptions o;
  o.window_left = 2, o.window_right = 1;
  check_fd(shape(1, 6, 6, 2, 2, 3), o, 4);
  o.window_left = 0, o.window_right = 0;  // the diagonal only
  check_fd(shape(1, 3, 5, 1, 1, 2), o, 5);
}

TEST_CASE("gradients: softcap", "[reference][grad]") {
  AttnOptions o;
  o.softmax_scale = 3.0, o.softcap = 0.8;  // deep in tanh's curved part
  check_fd(shape(1, 4, 5, 2, 2, 3), o, 6);
}

TEST_CASE("gradients: ALiBi per head and per (batch, head)", "[reference][grad]") {
  AttnOptions o;
  o.causal = true;
  check_fd(shape(2, 4, 5, 2, 2, 3), o, 7, {0.5, 0.125}, {2});
  check_fd(shape(2, 4, 3, 2, 2, 3), {}, 8, {0.3, 0.6, 0.9, 0.2}, {2, 2});
}

TEST_CASE("gradients: GQA and MQA", "[reference][grad]") {
  check_fd(shape(1, 4, 5, 4, 2, 3), {}, 9);
  AttnOptions o;
  o.causal = true;
  check_fd(shape(2, 3, 3, 3, 1, 2), o, 10);
}

TEST_CASE("gradients: varlen with an empty sequence and every feature together", "[reference][grad]") {
  AttnShape s = shape(1, 1, 1, 2, 1, 3);
  s.varlen_seqlens_q = {3, 2, 4};
  s.varlen_seqlens_k = {4, 0, 3};
  check_fd(s, {}, 11);
  AttnOptions o;
  o.causal = true, o.window_left = 1, o.softcap = 1.5, o.softmax_scale = 2.5;
  check_fd(s, o, 12, {0.25, 0.5}, {2});
}
