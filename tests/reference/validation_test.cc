// Every bad input throws std::invalid_argument naming the argument, the expected and the actual.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "attention/reference/naive_same_dtype.h"
#include "attention/reference/random_inputs.h"
#include "attention/reference/reference_fp64.h"
#include "tests/reference/tensor_util.h"

using namespace tile;
using namespace tile::reference;
using Catch::Contains;
using tile::testing::cu_seqlens;

namespace {

OwnedInputs batched(DType dtype = DType::bf16) {
  AttnShape s;
  s.batch = 2, s.seqlen_q = 3, s.seqlen_k = 5, s.nheads_q = 4, s.nheads_k = 2, s.headdim = 8, s.dtype = dtype;
  return make_random_inputs(s, 1);
}

OwnedInputs varlen() {
  AttnShape s;
  s.nheads_q = 4, s.nheads_k = 2, s.headdim = 8, s.dtype = DType::f16;
  s.varlen_seqlens_q = {2, 3};
  s.varlen_seqlens_k = {4, 3};
  return make_random_inputs(s, 2);
}

}  // namespace

TEST_CASE("bad dtypes and devices name the tensor", "[validation]") {
  const OwnedInputs o = batched();
  AttnInputs in = o.inputs();
  const HostTensor q_int(DType::i32, {2, 3, 4, 8});
  in.q = q_int.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("q: expected a float dtype") && Contains("got dtype i32"));
  in = o.inputs();
  const HostTensor k_f16(DType::f16, {2, 5, 2, 8});
  in.k = k_f16.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("k: expected dtype bf16 (same as q), got dtype f16"));
  in = o.inputs();
  in.v.device = Device::cuda(0);
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("v: expected a cpu tensor, got device cuda:0"));
  in = o.inputs();
  in.q = TensorView();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("q: expected a tensor, got none"));
}

TEST_CASE("mismatched shapes name the tensor, the expected and the actual", "[validation]") {
  const OwnedInputs o = batched();
  AttnInputs in = o.inputs();
  const HostTensor k3(DType::bf16, {3, 5, 2, 8});
  in.k = k3.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("k: expected batch (q's) 2, got 3"));
  in = o.inputs();
  const HostTensor k_d(DType::bf16, {2, 5, 2, 16});
  in.k = k_d.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("k: expected headdim (q's) 8, got 16"));
  in = o.inputs();
  const HostTensor v_s(DType::bf16, {2, 6, 2, 8});
  in.v = v_s.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("v: expected seqlen (k's) 5, got 6"));
  in = o.inputs();
  const HostTensor q3(DType::bf16, {6, 4, 8});
  in.q = q3.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("q: expected rank 4 (batch, seqlen, nheads, headdim), got shape (6, 4, 8)"));
}

TEST_CASE("nheads_q not a multiple of nheads_k, and headdim 0", "[validation]") {
  const OwnedInputs o = batched();
  AttnInputs in = o.inputs();
  const HostTensor k3(DType::bf16, {2, 5, 3, 8}), v3(DType::bf16, {2, 5, 3, 8});
  in.k = k3.view(), in.v = v3.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("k: expected nheads dividing q's nheads (4), got nheads 3"));
  const HostTensor q0(DType::bf16, {2, 3, 4, 0}), k0(DType::bf16, {2, 5, 2, 0});
  in = o.inputs();
  in.q = q0.view(), in.k = k0.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("q: expected headdim > 0, got 0"));
}

TEST_CASE("bad cu_seqlens: non-monotonic, out of range, wrong start, dtype, length, missing", "[validation]") {
  const OwnedInputs o = varlen();  // total_q 5, total_k 7
  AttnInputs in = o.inputs();
  const HostTensor decreasing = cu_seqlens({0, 4, 3});
  in.cu_seqlens_q = decreasing.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_q: expected non-decreasing values, got 3 after 4 at index 2"));
  in = o.inputs();
  const HostTensor too_long = cu_seqlens({0, 4, 9});
  in.cu_seqlens_k = too_long.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_k: expected last value == total_k (7), got 9"));
  in = o.inputs();
  const HostTensor offset = cu_seqlens({1, 2, 5});
  in.cu_seqlens_q = offset.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_q: expected cu_seqlens_q[0] == 0, got 1"));
  in = o.inputs();
  const HostTensor as_float = tile::testing::tensor_of(DType::f32, {3}, {0, 2, 5});
  in.cu_seqlens_q = as_float.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_q: expected dtype i32, got dtype f32"));
  in = o.inputs();
  const HostTensor three_seqs = cu_seqlens({0, 2, 4, 7});
  in.cu_seqlens_k = three_seqs.view();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_k: expected length 3 (same as cu_seqlens_q), got length 4"));
  in = o.inputs();
  in.cu_seqlens_k = TensorView();
  CHECK_THROWS_WITH(attention_forward(in, {}), Contains("cu_seqlens_k: expected a tensor when cu_seqlens_q is given, got none"));
}

TEST_CASE("bad options: alibi shape and dtype, window, softcap", "[validation]") {
  const OwnedInputs o = batched();
  AttnOptions opt;
  const HostTensor slopes3(DType::f32, {3});
  opt.alibi_slopes = slopes3.view();
  CHECK_THROWS_WITH(attention_forward(o.inputs(), opt), Contains("alibi_slopes: expected shape (2, 4) or (4)") && Contains("got (3)"));
  const HostTensor slopes_int(DType::i32, {4});
  opt.alibi_slopes = slopes_int.view();
  CHECK_THROWS_WITH(attention_forward(o.inputs(), opt), Contains("alibi_slopes: expected f32, got i32"));
  opt = {};
  opt.window_left = -2;
  CHECK_THROWS_WITH(attention_forward(o.inputs(), opt), Contains("window_size: expected left >= -1 (-1 = unbounded), got left -2"));
  opt = {};
  opt.softcap = -1.0;
  CHECK_THROWS_WITH(attention_forward(o.inputs(), opt), Contains("softcap: expected a finite value >= 0") && Contains("-1"));
}

TEST_CASE("bad dout; the naive reference validates the same way", "[validation]") {
  const OwnedInputs o = batched();
  const HostTensor wrong(DType::bf16, {2, 3, 4, 4});
  CHECK_THROWS_WITH(attention_backward(o.inputs(), {}, wrong.view()),
                    Contains("dout: expected shape (2, 3, 4, 8) (the output's), got shape (2, 3, 4, 4)"));
  CHECK_THROWS_WITH(naive_attention_backward(o.inputs(), {}, wrong.view()), Contains("dout: expected shape (2, 3, 4, 8)"));
  AttnInputs in = o.inputs();
  const HostTensor k3(DType::bf16, {2, 5, 3, 8});
  in.k = k3.view();
  CHECK_THROWS_AS(naive_attention_forward(in, {}), std::invalid_argument);
  CHECK_THROWS_WITH(naive_attention_forward(in, {}), Contains("k: expected nheads dividing"));
}
