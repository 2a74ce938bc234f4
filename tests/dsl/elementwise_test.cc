// Tile creation, elementwise math, broadcasting, casts, where, masks.
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;
using tile::testing::count;

TEST_CASE("creation: zeros, full, arange") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile z = zeros<f32>({4, 8}) + full({4, 8}, -INFINITY, DType::f32);
    Tile r = arange(3, 7);
    store(out, r, sum(z.to<f32>().t(), 0));
  });
  CHECK_THAT(ir, Contains("tile.splat %cst : f32 -> tensor<4x8xf32>"));
  CHECK_THAT(ir, Contains("0xFF800000"));  // -inf
  CHECK_THAT(ir, Contains("tile.arange 3 to 7 : tensor<4xi32>"));
  CHECK_THAT(ir, Contains("tile.trans"));
}

TEST_CASE("broadcasting [M,1] with [1,N] and scalars") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<i32>("out");
    Int stride = k.arg_i32("stride");
    Tile rows = arange(0, 16), cols = arange(0, 32);
    Tile offs = rows.col() * stride + cols.row();  // [16,1] * s + [1,32] -> [16,32]
    store(out, offs, offs);
  });
  CHECK_THAT(ir, Contains("tile.expand_dims %0, 1 : tensor<16xi32> -> tensor<16x1xi32>"));
  CHECK_THAT(ir, Contains("tile.expand_dims %1, 0 : tensor<32xi32> -> tensor<1x32xi32>"));
  CHECK_THAT(ir, Contains("tile.splat %arg1 : i32 -> tensor<16x1xi32>"));
  CHECK_THAT(ir, Contains("tensor<16x1xi32> -> tensor<16x32xi32>"));
  CHECK_THAT(ir, Contains("tensor<1x32xi32> -> tensor<16x32xi32>"));
  CHECK_THAT(ir, Contains("arith.addi"));
  CHECK_THAT(ir, Contains(": tensor<16x32xi32>"));
}

TEST_CASE("broadcasting a [N] tile against [M,N] adds a leading dim") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile m = zeros<f32>({8, 16});
    Tile v = arange(0, 16).to<f32>();
    store(out, arange(0, 8).col() * 16 + arange(0, 16).row(), m - v);
  });
  CHECK_THAT(ir, Contains("-> tensor<1x16xf32>"));
  CHECK_THAT(ir, Contains("tensor<1x16xf32> -> tensor<8x16xf32>"));
  CHECK_THAT(ir, Contains("arith.subf"));
}

TEST_CASE("math, unary minus, literals take the tile's dtype") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<bf16>("out");
    Tile x = zeros<bf16>({64});
    Tile y = tanh(log(exp(log2(exp2(-x * 0.5))))) / 3 + abs(sqrt(x)) - rsqrt(x);
    store(out, arange(0, 64), max(maximum(y, 1.0), min(y, x)));
  });
  for (const char* op : {"math.exp2", "math.log2", "math.exp", "math.log", "math.tanh", "math.sqrt", "math.rsqrt",
                         "math.absf", "arith.negf", "arith.maximumf", "arith.minimumf", "arith.divf"})
    CHECK_THAT(ir, Contains(op));
  CHECK_THAT(ir, Contains("arith.constant 5.000000e-01 : bf16"));
  CHECK_THAT(ir, Contains("arith.constant 3.000000e+00 : bf16"));
  CHECK_THAT(ir, Contains("tensor<64xbf16>"));
}

TEST_CASE("casts between float widths, ints and masks") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile x = zeros<f32>({4});
    Tile h = x.to<f16>();              // truncf
    Tile b = to(h, DType::bf16);        // f16 -> f32 -> bf16
    Tile i = b.to<i32>();               // fptosi
    Tile m = i > 0;
    Tile f = m.to<f32>() + i.to<f32>() + h.to<f32>();  // uitofp, sitofp, extf
    store(out, arange(0, 4), f);
  });
  CHECK_THAT(ir, Contains("arith.truncf %0 : tensor<4xf32> to tensor<4xf16>"));
  CHECK_THAT(ir, Contains("arith.extf %1 : tensor<4xf16> to tensor<4xf32>"));
  CHECK_THAT(ir, Contains("to tensor<4xbf16>"));
  CHECK_THAT(ir, Contains("arith.fptosi"));
  CHECK_THAT(ir, Contains("arith.uitofp"));
  CHECK_THAT(ir, Contains("arith.sitofp"));
}

TEST_CASE("comparisons give i1 tiles; & | ~ combine masks; where selects with broadcasting") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Int n = k.arg_i32("n");
    Tile r = arange(0, 16), c = arange(0, 32);
    Tile causal = c.row() <= r.col();                 // [16,32] i1
    Tile keep = (causal & (c.row() < n)) | ~(r.col() != 3);
    Tile s = zeros<f32>({16, 32});
    Tile masked = where(keep, s, -INFINITY);
    Tile picked = where(r.col() >= 8, masked, s);      // [16,1] condition broadcasts
    store(out, r.col() * 32 + c.row(), picked);
  });
  CHECK_THAT(ir, Contains("arith.cmpi sle"));
  CHECK_THAT(ir, Contains("arith.cmpi ne"));
  CHECK_THAT(ir, Contains("tensor<16x32xi1>"));
  CHECK_THAT(ir, Contains("arith.andi"));
  CHECK_THAT(ir, Contains("arith.ori"));
  CHECK_THAT(ir, Contains("arith.xori"));
  CHECK(count(ir, "arith.select") == 2);
  CHECK_THAT(ir, Contains("tensor<16x1xi1> -> tensor<16x32xi1>"));
}
