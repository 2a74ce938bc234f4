// The GPU TensorOps' element-wise DSL kernels (distributed/kernels), run on the CPU interpreter
// with the very launches the GPU uses (elementwise_calls.h), against CpuTensorOps: copy with
// dtype conversion between strided views (zigzag halves, qkvpacked slices), fill, accumulate, and
// the LSE merge including empty (-inf) partials and far-apart LSEs.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "attention/interp_backend/interp_backend.h"
#include "distributed/cpu_tensor_ops.h"
#include "distributed/elementwise_calls.h"
#include "distributed/device_tensor.h"

using namespace tile;
using namespace tile::dist;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

attention::InterpBackend& interp() {
  static attention::InterpBackend be(attention::InterpBackend::Options{7, 2});
  return be;
}

HostTensor random_tensor(DType dtype, const std::vector<int64_t>& shape, uint64_t seed, double scale = 1.0) {
  HostTensor t(dtype, shape);
  std::mt19937_64 g(seed);
  std::normal_distribution<double> n(0.0, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.set_at(i, round_to_dtype(dtype, n(g)));
  return t;
}

// Exact equality, element by element (views of any strides).
bool same(const TensorView& a, const TensorView& b, double tol = 0.0) {
  const HostTensor x = to_host_tensor(a, DType::f64), y = to_host_tensor(b, DType::f64);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double u = x.at(i), v = y.at(i);
    if (std::isinf(u) || std::isinf(v)) {
      if (u != v) return false;
    } else if (!(std::fabs(u - v) <= tol * (1.0 + std::fabs(v)))) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("copy converts between strided views exactly like CpuTensorOps") {
  const DType dtypes[] = {DType::bf16, DType::f16, DType::f32};
  for (DType src_t : dtypes)
    for (DType dst_t : dtypes) {
      // The second half of a zigzag shard (b, s, h, d) and a qkvpacked slice as sources.
      HostTensor src = random_tensor(src_t, {2, 24, 3, 70}, 1);
      HostTensor packed = random_tensor(src_t, {2, 12, 3, 3, 70}, 2);
      const TensorView srcs[] = {slice(src.view(), 1, 12, 12), split_qkvpacked(packed.view())[1]};
      for (const TensorView& s : srcs) {
        HostTensor want(dst_t, s.sizes()), got(dst_t, s.sizes());
        CpuTensorOps().copy(want.view(), s);
        interp().launch(copy_call(got.view(), s));
        INFO(dtype_name(src_t) << " -> " << dtype_name(dst_t));
        CHECK(same(got.view(), want.view()));
      }
    }
}

TEST_CASE("fill and accumulate on strided views") {
  HostTensor acc = random_tensor(DType::f32, {1, 40, 2, 64}, 3), want = acc;
  HostTensor src = random_tensor(DType::bf16, {1, 20, 2, 64}, 4);
  CpuTensorOps().accumulate(slice(want.view(), 1, 20, 20), src.view());
  interp().launch(accumulate_call(slice(acc.view(), 1, 20, 20), src.view()));
  CHECK(same(acc.view(), want.view()));

  HostTensor lse(DType::f32, {2, 3, 40});
  lse.fill(1.0);
  TensorView half = slice(lse.view(), 2, 20, 20);  // (b, h, s) rows 20..39: strided
  interp().launch(fill_call(half, -kInf));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t s = 0; s < 40; ++s) CHECK(lse.get({b, h, s}) == (s < 20 ? 1.0 : -kInf));
}

TEST_CASE("merge matches the host rule, with empty partials and far-apart LSEs") {
  const int64_t B = 2, S = 33, H = 3, D = 80;
  for (DType block_t : {DType::bf16, DType::f32}) {
    HostTensor out = random_tensor(DType::f32, {B, 2 * S, H, D}, 5);
    HostTensor lse = random_tensor(DType::f32, {B, H, 2 * S}, 6, 3.0);
    HostTensor block_out = random_tensor(block_t, {B, S, H, D}, 7);
    HostTensor block_lse = random_tensor(DType::f32, {B, H, S}, 8, 3.0);
    // Row 0: nothing accumulated yet (its out is 0, as the ring starts); row 1: an empty block;
    // row 2: both empty; rows 3, 4: LSEs 80 apart either way.
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        lse.set({b, h, S + 0}, -kInf);
        for (int64_t d = 0; d < D; ++d) out.set({b, S + 0, h, d}, 0.0);
        block_lse.set({b, h, 1}, -kInf);
        lse.set({b, h, S + 2}, -kInf);
        block_lse.set({b, h, 2}, -kInf);
        lse.set({b, h, S + 3}, 90.0);
        block_lse.set({b, h, 3}, 10.0);
        lse.set({b, h, S + 4}, -70.0);
        block_lse.set({b, h, 4}, 10.0);
      }
    HostTensor want_out = out, want_lse = lse;
    // Merge into the second half of the rows, as zigzag does.
    CpuTensorOps().merge_partial(slice(want_out.view(), 1, S, S), slice(want_lse.view(), 2, S, S),
                                 block_out.view(), block_lse.view());
    interp().launch(merge_call(slice(out.view(), 1, S, S), slice(lse.view(), 2, S, S), block_out.view(),
                               block_lse.view()));
    INFO(dtype_name(block_t));
    CHECK(same(out.view(), want_out.view(), 2e-6));
    CHECK(same(lse.view(), want_lse.view(), 2e-6));
  }
}

TEST_CASE("the calls name their compiled instances and reject what the kernels cannot take") {
  HostTensor a(DType::f32, {1, 4, 2, 8}), b(DType::bf16, {1, 4, 2, 8});
  CHECK(elementwise_instance_name(copy_call(a.view(), b.view())) ==
        "dist_copy__block_cols64_block_rows16_dstf32_num_warps4_srcbf16");
  HostTensor i(DType::i32, {1, 4, 2, 8});
  CHECK_THROWS_WITH(copy_call(a.view(), i.view()), Catch::Contains("copy src"));
  HostTensor c(DType::f32, {1, 4, 2, 7});
  CHECK_THROWS_WITH(copy_call(a.view(), c.view()), Catch::Contains("shapes differ"));
  CHECK_THROWS_WITH(accumulate_call(b.view(), a.view()), Catch::Contains("f32 accumulator"));
}
