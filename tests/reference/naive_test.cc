// The naive same-dtype reference: close to fp64, but with the dtype's rounding visible.
#include <catch2/catch.hpp>

#include <cmath>
#include <utility>

#include "attention/reference/naive_same_dtype.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference_fp64.h"
#include "tests/reference/tensor_util.h"

using namespace tile;
using namespace tile::reference;
using tile::testing::has_nan;
using tile::testing::max_abs;
using tile::testing::max_abs_diff;

namespace {

AttnShape shape(DType dtype) {
  AttnShape s;
  s.batch = 2, s.seqlen_q = 48, s.seqlen_k = 64, s.nheads_q = 4, s.nheads_k = 2, s.headdim = 32, s.dtype = dtype;
  return s;
}

bool representable(const HostTensor& t, DType dtype) {
  for (int64_t e = 0; e < t.numel(); ++e)
    if (round_to_dtype(dtype, t.at(e)) != t.at(e)) return false;
  return true;
}

}  // namespace

TEST_CASE("naive bf16: close to fp64 but not identical, results in bf16", "[naive]") {
  const OwnedInputs in = make_random_inputs(shape(DType::bf16), 21);
  AttnOptions o;
  o.causal = true;
  const AttnForwardBackward ref = attention_forward_backward(in.inputs(), o, in.dout.view());
  const AttnForwardBackward naive = naive_attention_forward_backward(in.inputs(), o, in.dout.view());
  REQUIRE(naive.fwd.out.dtype() == DType::bf16);
  REQUIRE(naive.grads.dk.dtype() == DType::bf16);
  CHECK(naive.fwd.lse.dtype() == DType::f32);
  const double out_err = max_abs_diff(naive.fwd.out, ref.fwd.out);
  CHECK(out_err > 0.0);
  CHECK(out_err < 0.02 * max_abs(ref.fwd.out) + 1e-3);
  // bf16 has 8 significant bits: the naive path must be worse than one final rounding would be.
  HostTensor rounded(DType::bf16, ref.fwd.out.shape());
  for (int64_t e = 0; e < rounded.numel(); ++e) rounded.set_at(e, ref.fwd.out.at(e));
  CHECK(out_err > max_abs_diff(rounded, ref.fwd.out));
  const std::pair<const HostTensor*, const HostTensor*> grads[] = {
      {&naive.grads.dq, &ref.grads.dq}, {&naive.grads.dk, &ref.grads.dk}, {&naive.grads.dv, &ref.grads.dv}};
  for (const auto& g : grads) {
    const double err = max_abs_diff(*g.first, *g.second);
    CHECK(err > 0.0);
    CHECK(err < 0.05 * max_abs(*g.second));
    CHECK(representable(*g.first, DType::bf16));
  }
  CHECK(max_abs_diff(naive.fwd.lse, ref.fwd.lse) < 0.05);
}

TEST_CASE("naive f16 is ~8x closer than bf16; f32 is close to fp64", "[naive]") {
  AttnOptions o;
  o.softcap = 3.0;
  double err[3];
  const DType dtypes[3] = {DType::bf16, DType::f16, DType::f32};
  for (int i = 0; i < 3; ++i) {
    const OwnedInputs in = make_random_inputs(shape(dtypes[i]), 22);
    const AttnForwardBackward ref = attention_forward_backward(in.inputs(), o, in.dout.view());
    const AttnForwardBackward naive = naive_attention_forward_backward(in.inputs(), o, in.dout.view());
    err[i] = max_abs_diff(naive.fwd.out, ref.fwd.out) + max_abs_diff(naive.grads.dq, ref.grads.dq);
  }
  CHECK(err[1] < err[0] / 3.0);
  CHECK(err[2] < 1e-5);
  CHECK(err[2] > 0.0);
}

TEST_CASE("naive with every feature: masked rows are 0 without NaN", "[naive]") {
  AttnShape s;
  s.nheads_q = 4, s.nheads_k = 2, s.headdim = 16, s.dtype = DType::f16;
  s.varlen_seqlens_q = {9, 5, 7};
  s.varlen_seqlens_k = {4, 0, 12};
  const OwnedInputs in = make_random_inputs(s, 23);
  const HostTensor slopes = tile::testing::tensor_of(DType::f32, {4}, {0.5, 0.25, 0.125, 0.0625});
  AttnOptions o;
  o.causal = true, o.window_left = 3, o.softcap = 5.0;
  o.alibi_slopes = slopes.view();
  const AttnForwardBackward ref = attention_forward_backward(in.inputs(), o, in.dout.view());
  const AttnForwardBackward naive = naive_attention_forward_backward(in.inputs(), o, in.dout.view());
  CHECK_FALSE(has_nan(naive.fwd.out));
  CHECK_FALSE(has_nan(naive.grads.dq));
  CHECK_FALSE(has_nan(naive.grads.dk));
  CHECK_FALSE(has_nan(naive.grads.dv));
  // The first 5 queries of sequence 0 (sq 9 > sk 4) and all of sequence 1 see no key.
  for (int64_t h = 0; h < 4; ++h) {
    for (int64_t t = 0; t < 5; ++t) CHECK(std::isinf(naive.fwd.lse.get({h, t})));
    for (int64_t t = 9; t < 14; ++t) CHECK(naive.fwd.out.get({t, h, 0}) == 0.0);
  }
  CHECK(max_abs_diff(naive.fwd.out, ref.fwd.out) < 5e-3);
  CHECK(max_abs_diff(naive.grads.dk, ref.grads.dk) < 2e-2 * max_abs(ref.grads.dk) + 1e-3);
}
