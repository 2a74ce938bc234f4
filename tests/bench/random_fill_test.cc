// Fresh random inputs: uniform in [-1, 1), never all zeros, reproducible for a seed and
// independent of how the work is split over threads.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "bench/random_fill.h"
#include "dsl/core/dtype.h"

using namespace tile;
using namespace tile::bench;

TEST_CASE("bf16 and fp16 uniform(-1, 1) values", "[bench][random]") {
  for (ElemType t : {ElemType::bf16, ElemType::fp16}) {
    const size_t n = (size_t(1) << 21) + 12345;  // more than two chunks, a ragged tail
    std::vector<uint16_t> v(n, 0xFFFF);
    fill_uniform(v.data(), n, t, 7);
    double sum = 0, sq = 0;
    size_t zeros = 0;
    for (uint16_t h : v) {
      float x = t == ElemType::bf16 ? bf16_bits_to_f32(h) : f16_bits_to_f32(h);
      REQUIRE(std::isfinite(x));
      REQUIRE(x >= -1.0f);
      REQUIRE(x <= 1.0f);
      zeros += x == 0.0f;
      sum += x;
      sq += double(x) * x;
    }
    CHECK(zeros < n / 100);
    CHECK(std::abs(sum / double(n)) < 0.01);
    CHECK(sq / double(n) == Approx(1.0 / 3.0).epsilon(0.02));  // variance of U(-1, 1)
  }
}

TEST_CASE("same seed, same values; another seed, other values", "[bench][random]") {
  const size_t n = 3000000;
  std::vector<uint16_t> a(n), b(n), c(n);
  fill_uniform(a.data(), n, ElemType::bf16, 1);
  fill_uniform(b.data(), n, ElemType::bf16, 1);
  fill_uniform(c.data(), n, ElemType::bf16, 2);
  CHECK(a == b);
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a[i] == c[i];
  CHECK(same < n / 50);
}
