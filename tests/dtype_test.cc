#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "dsl/core/dtype.h"

using namespace tile;

static uint32_t bits(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }

TEST_CASE("f16 conversion is exact on edge values", "[dtype]") {
  CHECK(f32_to_f16_bits(0.0f) == 0x0000);
  CHECK(f32_to_f16_bits(-0.0f) == 0x8000);
  CHECK(f32_to_f16_bits(1.0f) == 0x3c00);
  CHECK(f32_to_f16_bits(65504.0f) == 0x7bff);          // largest normal
  CHECK(f32_to_f16_bits(65520.0f) == 0x7c00);          // rounds to Inf (tie to even)
  CHECK(f32_to_f16_bits(65519.0f) == 0x7bff);
  CHECK(f32_to_f16_bits(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(f32_to_f16_bits(std::ldexp(1.0f, -25)) == 0x0000);  // tie -> even (0)
  CHECK(f32_to_f16_bits(std::ldexp(3.0f, -26)) == 0x0001);  // above tie
  CHECK(f32_to_f16_bits(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
  CHECK(f32_to_f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie -> even
  CHECK(f32_to_f16_bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);  // tie -> even (up)
  CHECK(f32_to_f16_bits(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(f32_to_f16_bits(-std::numeric_limits<float>::infinity()) == 0xfc00);
  CHECK((f32_to_f16_bits(std::nanf("")) & 0x7e00) == 0x7e00);
  CHECK(std::isnan(f16_bits_to_f32(0x7e00)));
  CHECK(f16_bits_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_bits_to_f32(0x03ff) == std::ldexp(1023.0f, -24));
  CHECK(f16_bits_to_f32(0xfbff) == -65504.0f);
  CHECK(bits(f16_bits_to_f32(0x8000)) == 0x80000000u);
}

TEST_CASE("f16 round trip is the identity on every finite half", "[dtype]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads are canonicalised
    REQUIRE(f32_to_f16_bits(f16_bits_to_f32(static_cast<uint16_t>(h))) == h);
  }
}

TEST_CASE("bf16 conversion is exact on edge values", "[dtype]") {
  CHECK(f32_to_bf16_bits(1.0f) == 0x3f80);
  CHECK(f32_to_bf16_bits(-2.0f) == 0xc000);
  CHECK(f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);   // tie -> even
  CHECK(f32_to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82); // tie -> even (up)
  CHECK(f32_to_bf16_bits(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3f81);
  CHECK(f32_to_bf16_bits(std::numeric_limits<float>::max()) == 0x7f80);  // rounds to Inf
  CHECK(f32_to_bf16_bits(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(f32_to_bf16_bits(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(std::isnan(bf16_bits_to_f32(f32_to_bf16_bits(std::nanf("")))));
  CHECK(bf16_bits_to_f32(0x0001) == std::numeric_limits<float>::denorm_min() * 65536.0f);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    if ((b & 0x7f80) == 0x7f80 && (b & 0x7f)) continue;
    REQUIRE(f32_to_bf16_bits(bf16_bits_to_f32(static_cast<uint16_t>(b))) == b);
  }
}

TEST_CASE("dtype names parse and bad names are rejected", "[dtype]") {
  CHECK(parse_dtype("bf16") == DType::bf16);
  CHECK(parse_dtype("fp16") == DType::f16);
  CHECK(dtype_size(DType::bf16) == 2);
  CHECK_THROWS_WITH(parse_dtype("int4"), Catch::Contains("int4"));
}
