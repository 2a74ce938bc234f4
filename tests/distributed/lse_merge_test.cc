// The LSE merge rule against a direct softmax over all keys, including empty (-inf) partials
// and partials whose LSEs are far apart.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "attention/reference/reference.h"
#include "distributed/cpu_tensor_ops.h"
#include "distributed/lse_merge.h"
#include "distributed/reference_step_backend.h"
#include "ring_test_util.h"

using namespace tile;
using namespace tile::dist;

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

TEST_CASE("merged_lse is log(exp(a) + exp(b)), stable far apart and with -inf") {
  CHECK(merged_lse(1.0f, 2.0f) == Approx(std::log(std::exp(1.0) + std::exp(2.0))).epsilon(1e-6));
  CHECK(merged_lse(500.0f, 500.0f) == Approx(500.0 + std::log(2.0)).epsilon(1e-6));  // exp would overflow
  CHECK(merged_lse(-300.0f, 80.0f) == Approx(80.0f));                                // 380 apart: the small one vanishes
  CHECK(merged_lse(80.0f, -300.0f) == Approx(80.0f));
  CHECK(merged_lse(kNegInf, 3.0f) == 3.0f);
  CHECK(merged_lse(3.0f, kNegInf) == 3.0f);
  CHECK(merged_lse(kNegInf, kNegInf) == kNegInf);
}

TEST_CASE("merged_output is the softmax-weighted average of the partials") {
  const float a = 0.3f, b = -0.7f, la = 1.5f, lb = 0.25f;
  const double wa = std::exp(la) / (std::exp(la) + std::exp(lb));
  CHECK(merged_output(a, la, b, lb) == Approx(wa * a + (1 - wa) * b).epsilon(1e-6));
  CHECK(merged_output(a, 1000.0f, b, -1000.0f) == Approx(a));  // no NaN from exp overflow
  CHECK(merged_output(a, -1000.0f, b, 1000.0f) == Approx(b));
  CHECK(merged_output(0.0f, kNegInf, b, lb) == b);     // nothing accumulated yet
  CHECK(merged_output(a, la, 0.0f, kNegInf) == a);     // an empty partial changes nothing
  CHECK(merged_output(0.0f, kNegInf, 0.0f, kNegInf) == 0.0f);
  CHECK(log_sigmoid(-200.0f) == Approx(-200.0f));
  CHECK(log_sigmoid(200.0f) == Approx(0.0f).margin(1e-30));
  CHECK(sigmoid(-200.0f) >= 0.0f);
}

// Direct softmax attention of every query row over the keys `visible(i, j)` allows, in double:
// out (b, s, h, d) and lse (b, h, s), -inf and 0 for a row without keys.
struct Direct {
  std::vector<double> out, lse;
};
template <typename Visible>
Direct direct_attention(const HostTensor& q, const HostTensor& k, const HostTensor& v, double scale, Visible visible) {
  const int64_t B = q.shape()[0], S = q.shape()[1], H = q.shape()[2], D = q.shape()[3], Sk = k.shape()[1];
  Direct r;
  r.out.assign(static_cast<size_t>(B * S * H * D), 0.0);
  r.lse.assign(static_cast<size_t>(B * H * S), -INFINITY);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < S; ++i) {
        std::vector<double> s(static_cast<size_t>(Sk), -INFINITY);
        double m = -INFINITY;
        for (int64_t j = 0; j < Sk; ++j) {
          if (!visible(i, j)) continue;
          double dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += q.get({b, i, h, d}) * k.get({b, j, h, d});
          s[static_cast<size_t>(j)] = dot * scale;
          m = std::max(m, dot * scale);
        }
        if (std::isinf(m)) continue;
        double sum = 0;
        for (double x : s) sum += std::isinf(x) ? 0.0 : std::exp(x - m);
        r.lse[static_cast<size_t>((b * H + h) * S + i)] = m + std::log(sum);
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < Sk; ++j)
            if (!std::isinf(s[static_cast<size_t>(j)])) acc += std::exp(s[static_cast<size_t>(j)] - m) / sum * v.get({b, j, h, d});
          r.out[static_cast<size_t>(((b * S + i) * H + h) * D + d)] = acc;
        }
      }
  return r;
}

// Partials over disjoint key blocks, merged with CpuTensorOps::merge_partial, equal the
// attention over the union of their keys. Block 0 is computed with a bottom-right causal mask
// and more queries than keys, so its first rows see no key (LSE -inf); scores are large, so the
// blocks' LSEs are far apart.
TEST_CASE("merge_partial over split keys equals attention over all keys (incl. -inf rows)") {
  const int64_t B = 2, Sq = 12, H = 2, D = 8;
  auto in = testing::random_inputs(B, Sq, H, H, D, DType::f32, 11);
  for (int64_t i = 0; i < in.q.numel(); ++i) in.q.set_at(i, in.q.at(i) * 12.0);
  ReferenceStepBackend backend(1);
  CpuTensorOps ops;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));

  DeviceTensor out = ops.zeros(DType::f32, {B, Sq, H, D});
  DeviceTensor lse = ops.empty(DType::f32, {B, H, Sq});
  ops.fill(lse.view, -INFINITY);
  // Blocks of keys [0, 4) causal (row i sees key j when j <= i - 8), [4, 9) and [9, 12) full.
  const int64_t cuts[] = {0, 4, 9, 12};
  bool saw_empty_row = false;
  for (int blk = 0; blk < 3; ++blk) {
    const int64_t k0 = cuts[blk], n = cuts[blk + 1] - cuts[blk];
    StepForwardArgs a;
    a.q = in.q.view();
    a.k = slice(in.k.view(), 1, k0, n);
    a.v = slice(in.v.view(), 1, k0, n);
    a.softmax_scale = scale;
    a.causal = blk == 0;
    DeviceTensor bo = ops.empty(DType::f32, {B, Sq, H, D}), bl = ops.empty(DType::f32, {B, H, Sq});
    a.out = bo.view;
    a.lse = bl.view;
    backend.forward(a);
    saw_empty_row = saw_empty_row || std::isinf(static_cast<float*>(bl.view.data)[0]);
    ops.merge_partial(out.view, lse.view, bo.view, bl.view);
  }
  REQUIRE(saw_empty_row);
  const Direct truth = direct_attention(in.q, in.k, in.v, scale, [](int64_t i, int64_t j) { return j >= 4 || j <= i - 8; });
  const HostTensor got_out = to_host_tensor(out.view, DType::f64), got_lse = to_host_tensor(lse.view, DType::f64);
  double max_out = 0, max_lse = 0;
  for (int64_t e = 0; e < got_out.numel(); ++e) max_out = std::max(max_out, std::fabs(got_out.at(e) - truth.out[static_cast<size_t>(e)]));
  for (int64_t e = 0; e < got_lse.numel(); ++e) max_lse = std::max(max_lse, std::fabs(got_lse.at(e) - truth.lse[static_cast<size_t>(e)]));
  CHECK(max_out < 2e-6);
  CHECK(max_lse < 2e-5);
}

TEST_CASE("merge_partial keeps rows that no partial reached empty and rejects bad shapes") {
  CpuTensorOps ops;
  DeviceTensor out = ops.zeros(DType::f32, {1, 2, 1, 3}), lse = ops.empty(DType::f32, {1, 1, 2});
  ops.fill(lse.view, -INFINITY);
  DeviceTensor bo = ops.zeros(DType::bf16, {1, 2, 1, 3}), bl = ops.empty(DType::f32, {1, 1, 2});
  ops.fill(bl.view, -INFINITY);
  ops.merge_partial(out.view, lse.view, bo.view, bl.view);
  const HostTensor l = to_host_tensor(lse.view, DType::f64), o = to_host_tensor(out.view, DType::f64);
  CHECK(std::isinf(l.at(0)));
  CHECK(o.at(0) == 0.0);
  DeviceTensor wrong = ops.zeros(DType::f32, {1, 3, 1, 3});
  CHECK_THROWS_WITH(ops.merge_partial(wrong.view, lse.view, bo.view, bl.view), Catch::Contains("merge_partial"));
}
