// The fp64 reference against cases computable by hand, and against equivalent formulations.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "attention/reference/direct_attention.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference_fp64.h"
#include "tests/reference/tensor_util.h"

using namespace tile;
using namespace tile::reference;
using tile::testing::cu_seqlens;
using tile::testing::has_nan;
using tile::testing::max_abs_diff;
using tile::testing::tensor_of;

namespace {

AttnInputs inputs_of(const HostTensor& q, const HostTensor& k, const HostTensor& v) {
  AttnInputs in;
  in.q = q.view(), in.k = k.view(), in.v = v.view();
  return in;
}

const double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("one key: out is that key's value, lse its scaled score", "[reference]") {
  const HostTensor q = tensor_of(DType::f64, {1, 1, 1, 2}, {1.0, 2.0});
  const HostTensor k = tensor_of(DType::f64, {1, 1, 1, 2}, {0.5, -1.0});
  const HostTensor v = tensor_of(DType::f64, {1, 1, 1, 3}, {7.0, -3.0, 0.25});
  const AttnForward f = attention_forward(inputs_of(q, k, v), {});  // default scale 1/sqrt(2)
  CHECK(f.out.to_doubles() == std::vector<double>{7.0, -3.0, 0.25});
  REQUIRE(f.lse.shape() == std::vector<int64_t>{1, 1, 1});
  CHECK(f.lse.at(0) == Approx(-1.5 / std::sqrt(2.0)).epsilon(1e-15));
}

TEST_CASE("two keys: softmax weights 1/4 and 3/4", "[reference]") {
  // scores 0 and ln 3 (scale 1): p = (1/4, 3/4), out = 2/4 + 18/4 = 5, lse = ln 4.
  const HostTensor q = tensor_of(DType::f64, {1, 1, 1, 1}, {1.0});
  const HostTensor k = tensor_of(DType::f64, {1, 2, 1, 1}, {0.0, std::log(3.0)});
  const HostTensor v = tensor_of(DType::f64, {1, 2, 1, 1}, {2.0, 6.0});
  AttnOptions o;
  o.softmax_scale = 1.0;
  const AttnForward f = attention_forward(inputs_of(q, k, v), o);
  CHECK(f.out.at(0) == Approx(5.0).epsilon(1e-14));
  CHECK(f.lse.at(0) == Approx(std::log(4.0)).epsilon(1e-14));
  // Scale 2 squares the odds: p = (1/10, 9/10), out = 0.2 + 5.4.
  o.softmax_scale = 2.0;
  CHECK(attention_forward(inputs_of(q, k, v), o).out.at(0) == Approx(5.6).epsilon(1e-14));
}

TEST_CASE("softcap caps the scaled scores with tanh", "[reference]") {
  // scores 0 and 2 with cap 1: capped to 0 and tanh(2).
  const HostTensor q = tensor_of(DType::f64, {1, 1, 1, 1}, {1.0});
  const HostTensor k = tensor_of(DType::f64, {1, 2, 1, 1}, {0.0, 1.0});
  const HostTensor v = tensor_of(DType::f64, {1, 2, 1, 1}, {0.0, 1.0});
  AttnOptions o;
  o.softmax_scale = 2.0;
  o.softcap = 1.0;
  const double e = std::exp(std::tanh(2.0));
  const AttnForward f = attention_forward(inputs_of(q, k, v), o);
  CHECK(f.out.at(0) == Approx(e / (1.0 + e)).epsilon(1e-14));
  CHECK(f.lse.at(0) == Approx(std::log(1.0 + e)).epsilon(1e-14));
}

TEST_CASE("ALiBi subtracts slope times distance to the bottom-right diagonal", "[reference]") {
  // sq 1, sk 2: query 0 is aligned with key 1. Zero scores; bias -ln2 * (1, 0): p = (1/3, 2/3).
  const HostTensor q = tensor_of(DType::f64, {1, 1, 1, 1}, {0.0});
  const HostTensor k = tensor_of(DType::f64, {1, 2, 1, 1}, {0.3, -0.7});
  const HostTensor v = tensor_of(DType::f64, {1, 2, 1, 1}, {3.0, 6.0});
  const HostTensor slopes = tensor_of(DType::f32, {1}, {std::log(2.0)});
  AttnOptions o;
  o.alibi_slopes = slopes.view();
  const AttnForward f = attention_forward(inputs_of(q, k, v), o);
  const double slope = static_cast<double>(static_cast<float>(std::log(2.0)));  // read exactly from f32
  const double w0 = std::exp(-slope), w1 = 1.0;
  CHECK(f.out.at(0) == Approx((3.0 * w0 + 6.0 * w1) / (w0 + w1)).epsilon(1e-14));
  CHECK(f.lse.at(0) == Approx(std::log(w0 + w1)).epsilon(1e-14));
}

TEST_CASE("causal is bottom-right aligned when seqlen_q < seqlen_k", "[reference]") {
  // sq 2, sk 3, zero scores: query 0 sees keys 0..1, query 1 sees keys 0..2.
  const HostTensor q = tensor_of(DType::f64, {1, 2, 1, 1}, {0.0, 0.0});
  const HostTensor k = tensor_of(DType::f64, {1, 3, 1, 1}, {0.1, 0.2, 0.3});
  const HostTensor v = tensor_of(DType::f64, {1, 3, 1, 1}, {1.0, 2.0, 6.0});
  AttnOptions o;
  o.causal = true;
  const AttnForward f = attention_forward(inputs_of(q, k, v), o);
  CHECK(f.out.at(0) == Approx(1.5));
  CHECK(f.out.at(1) == Approx(3.0));
  CHECK(f.lse.at(0) == Approx(std::log(2.0)));
  CHECK(f.lse.at(1) == Approx(std::log(3.0)));
}

TEST_CASE("causal with seqlen_q > seqlen_k: leading rows see nothing (out 0, lse -inf)", "[reference]") {
  // sq 3, sk 2: query i sees keys j <= i - 1.
  const HostTensor q = tensor_of(DType::f64, {1, 3, 1, 1}, {0.0, 0.0, 0.0});
  const HostTensor k = tensor_of(DType::f64, {1, 2, 1, 1}, {0.5, 0.5});
  const HostTensor v = tensor_of(DType::f64, {1, 2, 1, 1}, {4.0, 8.0});
  AttnOptions o;
  o.causal = true;
  const AttnForward f = attention_forward(inputs_of(q, k, v), o);
  CHECK(f.out.to_doubles() == std::vector<double>{0.0, 4.0, 6.0});
  CHECK(f.lse.at(0) == -kInf);
  CHECK(f.lse.at(1) == Approx(0.0).margin(1e-15));
  CHECK(f.lse.at(2) == Approx(std::log(2.0)));
  const HostTensor dout = tensor_of(DType::f64, {1, 3, 1, 1}, {1.0, 1.0, 1.0});
  const AttnGrads g = attention_backward(inputs_of(q, k, v), o, dout.view());
  CHECK_FALSE(has_nan(g.dq));
  CHECK(g.dq.at(0) == 0.0);
  CHECK_FALSE(has_nan(g.dk));
  CHECK_FALSE(has_nan(g.dv));
}

TEST_CASE("window (1, 0): each query sees itself and one key to the left", "[reference]") {
  const HostTensor q = tensor_of(DType::f64, {1, 4, 1, 1}, {0, 0, 0, 0});
  const HostTensor k = tensor_of(DType::f64, {1, 4, 1, 1}, {1, 2, 3, 4});
  const HostTensor v = tensor_of(DType::f64, {1, 4, 1, 1}, {1, 3, 5, 9});
  AttnOptions o;
  o.window_left = 1, o.window_right = 0;
  CHECK(attention_forward(inputs_of(q, k, v), o).out.to_doubles() == std::vector<double>{1, 2, 4, 7});
  o.window_left = 0, o.window_right = 1;  // itself and one to the right
  CHECK(attention_forward(inputs_of(q, k, v), o).out.to_doubles() == std::vector<double>{2, 4, 7, 9});
  o.window_left = 0, o.window_right = -1;  // itself and everything to the right
  CHECK(attention_forward(inputs_of(q, k, v), o).out.at(0) == Approx(4.5));
  o.window_left = 1, o.window_right = 3, o.causal = true;  // causal overrides right, as flash-attn
  CHECK(attention_forward(inputs_of(q, k, v), o).out.to_doubles() == std::vector<double>{1, 2, 4, 7});
}

TEST_CASE("fully masked rows (a varlen sequence with seqlen_k 0): out 0, lse -inf", "[reference]") {
  AttnShape s;
  s.nheads_q = 2, s.nheads_k = 1, s.headdim = 3;
  s.varlen_seqlens_q = {2, 3};
  s.varlen_seqlens_k = {0, 4};
  const OwnedInputs in = make_random_inputs(s, 7);
  AttnOptions o;
  o.causal = true;  // sq 3, sk 4: every row of the second sequence sees something
  const AttnForwardBackward r = attention_forward_backward(in.inputs(), o, in.dout.view());
  REQUIRE(r.fwd.lse.shape() == std::vector<int64_t>{2, 5});
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t t = 0; t < 5; ++t) {
      const bool masked = t < 2;
      CHECK((r.fwd.lse.get({h, t}) == -kInf) == masked);
      for (int64_t c = 0; c < 3; ++c)
        if (masked) CHECK(r.fwd.out.get({t, h, c}) == 0.0);
    }
  CHECK_FALSE(has_nan(r.grads.dq));
  CHECK_FALSE(has_nan(r.grads.dk));
  CHECK_FALSE(has_nan(r.grads.dv));
  for (int64_t t = 0; t < 2; ++t) CHECK(r.grads.dq.get({t, 1, 2}) == 0.0);
}

TEST_CASE("GQA equals multi-head attention with repeated K/V; dK/dV sum over the group", "[reference]") {
  AttnShape s;
  s.batch = 2, s.seqlen_q = 5, s.seqlen_k = 6, s.nheads_q = 4, s.nheads_k = 2, s.headdim = 3;
  const OwnedInputs gqa = make_random_inputs(s, 11);
  // Repeat each kv head twice: head h of the repeated tensors is kv head h / 2.
  HostTensor k4(DType::f64, {2, 6, 4, 3}), v4(DType::f64, {2, 6, 4, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < 6; ++j)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t c = 0; c < 3; ++c) {
          k4.set({b, j, h, c}, gqa.k.get({b, j, h / 2, c}));
          v4.set({b, j, h, c}, gqa.v.get({b, j, h / 2, c}));
        }
  AttnInputs mha = gqa.inputs();
  mha.k = k4.view(), mha.v = v4.view();
  AttnOptions o;
  o.causal = true;
  const AttnForwardBackward a = attention_forward_backward(gqa.inputs(), o, gqa.dout.view());
  const AttnForwardBackward m = attention_forward_backward(mha, o, gqa.dout.view());
  CHECK(max_abs_diff(a.fwd.out, m.fwd.out) < 1e-15);
  CHECK(max_abs_diff(a.fwd.lse, m.fwd.lse) < 1e-15);
  CHECK(max_abs_diff(a.grads.dq, m.grads.dq) < 1e-14);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < 6; ++j)
      for (int64_t hk = 0; hk < 2; ++hk)
        for (int64_t c = 0; c < 3; ++c) {
          CHECK(a.grads.dk.get({b, j, hk, c}) ==
                Approx(m.grads.dk.get({b, j, 2 * hk, c}) + m.grads.dk.get({b, j, 2 * hk + 1, c})).margin(1e-14));
          CHECK(a.grads.dv.get({b, j, hk, c}) ==
                Approx(m.grads.dv.get({b, j, 2 * hk, c}) + m.grads.dv.get({b, j, 2 * hk + 1, c})).margin(1e-14));
        }
}

TEST_CASE("varlen equals one batched call per sequence", "[reference]") {
  AttnShape s;
  s.nheads_q = 2, s.nheads_k = 2, s.headdim = 4;
  s.varlen_seqlens_q = {3, 5};
  s.varlen_seqlens_k = {4, 2};
  const OwnedInputs packed = make_random_inputs(s, 5);
  AttnOptions o;
  o.causal = true, o.softcap = 2.0;
  const AttnForwardBackward whole = attention_forward_backward(packed.inputs(), o, packed.dout.view());
  int64_t q0 = 0, k0 = 0;
  for (size_t b = 0; b < 2; ++b) {
    const int64_t sq = s.varlen_seqlens_q[b], sk = s.varlen_seqlens_k[b];
    HostTensor q(DType::f64, {1, sq, 2, 4}), dout(DType::f64, {1, sq, 2, 4}), k(DType::f64, {1, sk, 2, 4}), v(DType::f64, {1, sk, 2, 4});
    for (int64_t e = 0; e < sq * 8; ++e) q.set_at(e, packed.q.at(q0 * 8 + e)), dout.set_at(e, packed.dout.at(q0 * 8 + e));
    for (int64_t e = 0; e < sk * 8; ++e) k.set_at(e, packed.k.at(k0 * 8 + e)), v.set_at(e, packed.v.at(k0 * 8 + e));
    AttnInputs one;
    one.q = q.view(), one.k = k.view(), one.v = v.view();
    const AttnForwardBackward r = attention_forward_backward(one, o, dout.view());
    for (int64_t e = 0; e < sq * 8; ++e) {
      CHECK(r.fwd.out.at(e) == whole.fwd.out.at(q0 * 8 + e));
      CHECK(r.grads.dq.at(e) == whole.grads.dq.at(q0 * 8 + e));
    }
    for (int64_t e = 0; e < sk * 8; ++e) CHECK(r.grads.dk.at(e) == whole.grads.dk.at(k0 * 8 + e));
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < sq; ++i) CHECK(r.fwd.lse.get({0, h, i}) == whole.fwd.lse.get({h, q0 + i}));
    q0 += sq, k0 += sk;
  }
}

TEST_CASE("strided qkvpacked bf16 inputs read exactly; threads do not change results", "[reference]") {
  AttnShape s;
  s.batch = 2, s.seqlen_q = 6, s.seqlen_k = 6, s.nheads_q = 3, s.nheads_k = 3, s.headdim = 8, s.dtype = DType::bf16;
  const OwnedInputs sep = make_random_inputs(s, 3);
  HostTensor packed(DType::bf16, {2, 6, 3, 3, 8});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 6; ++t)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t c = 0; c < 8; ++c) {
          packed.set({b, t, 0, h, c}, sep.q.get({b, t, h, c}));
          packed.set({b, t, 1, h, c}, sep.k.get({b, t, h, c}));
          packed.set({b, t, 2, h, c}, sep.v.get({b, t, h, c}));
        }
  const auto qkv = split_qkvpacked(packed.view());
  AttnInputs strided;
  strided.q = qkv[0], strided.k = qkv[1], strided.v = qkv[2];
  AttnOptions one_thread, many_threads;
  one_thread.num_threads = 1, many_threads.num_threads = 4;
  const AttnForward a = attention_forward(sep.inputs(), one_thread);
  const AttnForward b = attention_forward(strided, many_threads);
  CHECK(max_abs_diff(a.out, b.out) == 0.0);
  CHECK(max_abs_diff(a.lse, b.lse) == 0.0);
  CHECK(max_abs_diff(a.out, direct_attention_forward(sep.inputs(), {}).out) < 1e-15);
}
