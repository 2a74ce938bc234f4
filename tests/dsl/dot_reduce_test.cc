// dot (with trans) and reductions.
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;

TEST_CASE("dot with a transposed operand accumulates in f32") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile q = zeros<bf16>({64, 128}), kt = zeros<bf16>({32, 128});
    Tile s = dot(q, trans(kt)) * 0.125;
    Tile o = dot(s.to<bf16>(), zeros<bf16>({32, 16}), zeros<f32>({64, 16}));
    store(out, arange(0, 64).col() * 16 + arange(0, 16).row(), o);
  });
  CHECK_THAT(ir, Contains("tile.trans %1 : tensor<32x128xbf16> -> tensor<128x32xbf16>"));
  CHECK_THAT(ir, Contains("tile.dot %0, %2, %3 : tensor<64x128xbf16>, tensor<128x32xbf16> -> tensor<64x32xf32>"));
  CHECK_THAT(ir, Contains("tensor<64x32xbf16>, tensor<32x16xbf16> -> tensor<64x16xf32>"));
}

TEST_CASE("f16 dot") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile c = dot(zeros<f16>({16, 16}), zeros<f16>({16, 16}));
    store(out, arange(0, 16).col() * 16 + arange(0, 16).row(), c);
  });
  CHECK_THAT(ir, Contains("tensor<16x16xf16>, tensor<16x16xf16> -> tensor<16x16xf32>"));
}

TEST_CASE("reductions drop the axis; whole-tile reductions give scalars") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile s = zeros<f32>({64, 32});
    Tile m = max(s, 1);          // [64]
    Tile l = sum(s, -1);         // negative axes count from the end
    Tile lo = min(s, 0);         // [32]
    Float total = sum(lo) + max(m) + min(l);
    store(out, arange(0, 64), m + l + row_max(s) + row_sum(s) + total);
  });
  CHECK_THAT(ir, Contains("tile.reduce \"max\" %0, 1 : tensor<64x32xf32> -> tensor<64xf32>"));
  CHECK_THAT(ir, Contains("tile.reduce \"sum\" %0, 1 : tensor<64x32xf32> -> tensor<64xf32>"));
  CHECK_THAT(ir, Contains("tile.reduce \"min\" %0, 0 : tensor<64x32xf32> -> tensor<32xf32>"));
  CHECK_THAT(ir, Contains("tile.reduce \"sum\" %3, 0 : tensor<32xf32> -> f32"));
  CHECK_THAT(ir, Contains("-> f32"));
}

TEST_CASE("online-softmax step reads like the math") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile s = zeros<f32>({128, 64}), m = full<f32>({128}, -INFINITY), l = zeros<f32>({128});
    Tile m_new = max(m, row_max(s));
    Tile p = exp2(s - m_new.col());
    Tile alpha = exp2(m - m_new);
    Tile l_new = l * alpha + row_sum(p);
    store(out, arange(0, 128), l_new);
  });
  CHECK_THAT(ir, Contains("arith.maximumf"));
  CHECK_THAT(ir, Contains("tensor<128x1xf32> -> tensor<128x64xf32>"));
}
