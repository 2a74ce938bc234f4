#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "dsl/core/tensor_view.h"

using namespace tile;

TEST_CASE("contiguous view: strides, numel, offsets", "[tensor_view]") {
  std::vector<float> buf(2 * 3 * 4 * 5);
  TensorView v = TensorView::contiguous(buf.data(), DType::f32, {2, 3, 4, 5});
  CHECK(v.rank == 4);
  CHECK(v.numel() == 120);
  CHECK(v.stride(0) == 60);
  CHECK(v.stride(1) == 20);
  CHECK(v.stride(2) == 5);
  CHECK(v.stride(3) == 1);
  CHECK(v.is_contiguous());
  CHECK(v.offset_of({1, 2, 3, 4}) == 60 + 40 + 15 + 4);
  CHECK(v.offset_of_linear(119) == 119);
  CHECK(v.shape_str() == "(2, 3, 4, 5)");
  CHECK(v.device == Device::cpu());
  CHECK(Device::cuda(1).str() == "cuda:1");
}

TEST_CASE("strided views: transposes are not contiguous, size-1 dims ignore strides", "[tensor_view]") {
  TensorView t(nullptr, DType::bf16, {4, 3}, {1, 4});  // a transposed (3, 4)
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.offset_of({2, 1}) == 2 + 4);
  CHECK(t.offset_of_linear(4) == t.offset_of({1, 1}));
  TensorView single(nullptr, DType::f16, {1, 5}, {999, 1});
  CHECK(single.is_contiguous());
  CHECK_THROWS_AS(t.offset_of({4, 0}), std::out_of_range);
  CHECK_THROWS_AS(t.offset_of({0}), std::out_of_range);
  CHECK_THROWS_WITH(TensorView(nullptr, DType::f32, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}),
                    Catch::Contains("rank <= 5") && Catch::Contains("got 6"));
  CHECK_THROWS_WITH(TensorView(nullptr, DType::f32, {2, -1}, {1, 1}), Catch::Contains("got -1"));
}

TEST_CASE("qkvpacked split: q, k, v views share the packed storage", "[tensor_view]") {
  // (batch 2, seqlen 3, 3, nheads 2, headdim 4)
  HostTensor packed(DType::f32, {2, 3, 3, 2, 4});
  for (int64_t e = 0; e < packed.numel(); ++e) packed.set_at(e, static_cast<double>(e));
  const auto qkv = split_qkvpacked(packed.view());
  for (int which = 0; which < 3; ++which) {
    const TensorView& t = qkv[static_cast<size_t>(which)];
    REQUIRE(t.sizes() == std::vector<int64_t>{2, 3, 2, 4});
    CHECK_FALSE(t.is_contiguous());
    CHECK(load_as_double(t.dtype, t.data, t.offset_of({1, 2, 1, 3})) == packed.get({1, 2, which, 1, 3}));
  }
  HostTensor varlen(DType::f16, {5, 3, 2, 8});
  CHECK(split_qkvpacked(varlen.view())[2].sizes() == std::vector<int64_t>{5, 2, 8});
  HostTensor bad(DType::f16, {2, 3, 4, 2, 8});
  CHECK_THROWS_WITH(split_qkvpacked(bad.view()), Catch::Contains("qkv: expected") && Catch::Contains("(2, 3, 4, 2, 8)"));
}

TEST_CASE("HostTensor get/set round exactly to f16 and bf16", "[tensor_view]") {
  HostTensor h(DType::f16, {2, 2});
  h.set({0, 1}, 1.0 + std::ldexp(1.0, -11));  // tie between 1 and 1+2^-10: even wins
  CHECK(h.get({0, 1}) == 1.0);
  // Just above the tie: a double -> float -> f16 path would lose the 2^-40 and round down.
  h.set({1, 0}, 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40));
  CHECK(h.get({1, 0}) == 1.0 + std::ldexp(1.0, -10));
  h.set({1, 1}, 70000.0);
  CHECK(std::isinf(h.get({1, 1})));
  HostTensor b(DType::bf16, {3});
  b.set_at(0, 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30));
  CHECK(b.at(0) == 1.0 + std::ldexp(1.0, -7));
  b.set_at(1, 3.140625);  // exactly representable
  CHECK(b.at(1) == 3.140625);
  b.set_at(2, std::nan(""));
  CHECK(std::isnan(b.at(2)));
  CHECK(round_to_dtype(DType::bf16, -1.0 - std::ldexp(1.0, -8) - std::ldexp(1.0, -30)) == -1.0 - std::ldexp(1.0, -7));
  CHECK(round_to_dtype(DType::f64, 0.1) == 0.1);
  CHECK(round_to_dtype(DType::f32, 0.1) == static_cast<double>(0.1f));
}

TEST_CASE("HostTensor copies point at their own storage", "[tensor_view]") {
  HostTensor a(DType::f64, {3});
  a.fill(2.5);
  HostTensor b = a;
  b.set_at(0, -1.0);
  CHECK(a.at(0) == 2.5);
  CHECK(b.at(0) == -1.0);
  CHECK(b.view().data == b.data());
  CHECK(a.to_doubles() == std::vector<double>{2.5, 2.5, 2.5});
  HostTensor i(DType::i32, {2});
  i.set_at(1, 7);
  CHECK(i.at(1) == 7.0);
  CHECK_THROWS_AS(i.at(2), std::out_of_range);
}

TEST_CASE("to_host_tensor copies a strided view in row-major order", "[tensor_view]") {
  HostTensor m(DType::f32, {2, 3});
  for (int64_t e = 0; e < 6; ++e) m.set_at(e, static_cast<double>(e));
  const TensorView transposed(m.data(), DType::f32, {3, 2}, {1, 3});
  const HostTensor t = to_host_tensor(transposed, DType::bf16);
  CHECK(t.to_doubles() == std::vector<double>{0, 3, 1, 4, 2, 5});
  TensorView on_gpu = m.view();
  on_gpu.device = Device::cuda(0);
  CHECK_THROWS_WITH(to_host_tensor(on_gpu, DType::f32), Catch::Contains("cuda:0"));
}
