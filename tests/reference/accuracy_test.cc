// The accuracy rule: the reference passes against itself, perturbed or wrong results fail.
#include <catch2/catch.hpp>

#include <cmath>

#include "attention/reference/accuracy.h"
#include "attention/reference/naive_same_dtype.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference_fp64.h"
#include "tests/reference/tensor_util.h"

using namespace tile;
using namespace tile::reference;

namespace {

struct Fixture {
  OwnedInputs in;
  AttnOptions options;
  AttnForwardBackward ref, naive;
};

Fixture make_fixture(DType dtype) {
  AttnShape s;
  s.batch = 1, s.seqlen_q = 40, s.seqlen_k = 40, s.nheads_q = 2, s.nheads_k = 1, s.headdim = 16, s.dtype = dtype;
  Fixture f{make_random_inputs(s, 31), {}, {}, {}};
  f.options.causal = true;
  f.ref = attention_forward_backward(f.in.inputs(), f.options, f.in.dout.view());
  f.naive = naive_attention_forward_backward(f.in.inputs(), f.options, f.in.dout.view());
  return f;
}

AttentionTensors tensors_of(const AttnForwardBackward& r) {
  return {r.fwd.out.view(), r.grads.dq.view(), r.grads.dk.view(), r.grads.dv.view()};
}

// What a perfect bf16 kernel returns: the fp64 results rounded once.
AttnForwardBackward rounded(const AttnForwardBackward& r, DType dtype) {
  AttnForwardBackward o = r;
  for (HostTensor* t : {&o.fwd.out, &o.grads.dq, &o.grads.dk, &o.grads.dv})
    for (int64_t e = 0; e < t->numel(); ++e) t->set_at(e, round_to_dtype(dtype, t->at(e)));
  return o;
}

}  // namespace

TEST_CASE("accuracy rule: fp64 reference and its rounding pass; naive passes", "[accuracy]") {
  const Fixture f = make_fixture(DType::bf16);
  const AccuracyReport self = check_attention_accuracy(tensors_of(f.ref), tensors_of(f.naive), tensors_of(f.ref), DType::bf16);
  CHECK(self.pass());
  REQUIRE(self.tensors.size() == 4);
  CHECK(self.tensors[0].kernel.max_abs == 0.0);
  CHECK(self.tensors[0].k == 2.0);
  CHECK(self.tensors[1].k == 3.0);
  const AttnForwardBackward r = rounded(f.ref, DType::bf16);
  CHECK(check_attention_accuracy(tensors_of(r), tensors_of(f.naive), tensors_of(f.ref), DType::bf16).pass());
  CHECK(check_attention_accuracy(tensors_of(f.naive), tensors_of(f.naive), tensors_of(f.ref), DType::bf16).pass());
}

TEST_CASE("accuracy rule: one perturbed element fails exactly that tensor", "[accuracy]") {
  const Fixture f = make_fixture(DType::bf16);
  AttnForwardBackward k = rounded(f.ref, DType::bf16);
  const TensorAccuracy before = check_tensor("dK", k.grads.dk.view(), f.naive.grads.dk.view(), f.ref.grads.dk.view(), DType::bf16, 3.0);
  REQUIRE(before.pass);
  k.grads.dk.set_at(5, f.ref.grads.dk.at(5) + 1.5 * before.bound);
  const AccuracyReport report = check_attention_accuracy(tensors_of(k), tensors_of(f.naive), tensors_of(f.ref), DType::bf16);
  CHECK_FALSE(report.pass());
  CHECK(report.tensors[0].pass);
  CHECK(report.tensors[1].pass);
  CHECK_FALSE(report.tensors[2].pass);
  CHECK(report.tensors[3].pass);
  CHECK_THAT(report.format(), Catch::Contains("FAIL (dK)"));
}

TEST_CASE("accuracy rule: a NaN fails, a mutant kernel (wrong scale) fails", "[accuracy]") {
  const Fixture f = make_fixture(DType::f16);
  AttnForwardBackward nan_kernel = rounded(f.ref, DType::f16);
  nan_kernel.fwd.out.set_at(3, std::nan(""));
  const TensorAccuracy t = check_tensor("Output", nan_kernel.fwd.out.view(), f.naive.fwd.out.view(), f.ref.fwd.out.view(), DType::f16, 2.0);
  CHECK_FALSE(t.pass);
  CHECK(t.kernel.new_nans == 1);
  CHECK_THAT(t.format(), Catch::Contains("NaN where the reference has none"));

  AttnOptions mutant_options = f.options;
  mutant_options.softmax_scale = 1.05 / 4.0;  // 5% off the default 1/sqrt(16)
  const AttnForwardBackward mutant = rounded(
      attention_forward_backward(f.in.inputs(), mutant_options, f.in.dout.view()), DType::f16);
  const AccuracyReport report = check_attention_accuracy(tensors_of(mutant), tensors_of(f.naive), tensors_of(f.ref), DType::f16);
  CHECK_FALSE(report.tensors[0].pass);
  CHECK_FALSE(report.pass());
}

TEST_CASE("diff statistics: max, mean, rel-L2 by hand; printed lines", "[accuracy]") {
  const HostTensor ref = tile::testing::tensor_of(DType::f64, {4}, {3.0, 0.0, -4.0, 0.0});
  const HostTensor a = tile::testing::tensor_of(DType::f64, {4}, {3.0, 1.0, -4.0, -1.0});
  const DiffStats d = diff_stats(a.view(), ref.view());
  CHECK(d.max_abs == 1.0);
  CHECK(d.mean_abs == 0.5);
  CHECK(d.rel_l2 == Approx(std::sqrt(2.0) / 5.0));
  const HostTensor inf_ref = tile::testing::tensor_of(DType::f64, {2}, {-INFINITY, 1.0});
  CHECK(diff_stats(inf_ref.view(), inf_ref.view()).max_abs == 0.0);  // equal -inf (an LSE) is no difference
  const TensorAccuracy t = check_tensor("Output", a.view(), a.view(), ref.view(), DType::bf16, 2.0);
  CHECK_THAT(t.format(), Catch::Contains("Output max diff: 1.000e+00") && Catch::Contains("Output mean diff: 5.000e-01"));
  const HostTensor short_one(DType::f64, {3});
  CHECK_THROWS_WITH(check_tensor("dQ", short_one.view(), a.view(), ref.view(), DType::bf16, 3.0),
                    Catch::Contains("dQ kernel") && Catch::Contains("(4)") && Catch::Contains("(3)"));
}
