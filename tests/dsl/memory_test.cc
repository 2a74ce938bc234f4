// Memory ops: block loads/stores with padding, BlockPtr, masked gathers/scatters, atomics, addptr.
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;

TEST_CASE("load_block / store_block with padding") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr x = k.arg_ptr<bf16>("x"), y = k.arg_ptr<f32>("y");
    Int rows = k.arg_i32("rows"), cols = k.arg_i32("cols");
    Tile t = load_block(x, {rows, cols}, {cols, 1}, {program_id(0) * 64, 0}, {64, 32}, -INFINITY);
    store_block(y, {rows, cols}, {cols, 1}, {program_id(0) * 64, 0}, t.to<f32>());
  });
  CHECK_THAT(ir, Contains("tile.load_block %arg0 shape[%arg2, %arg3] strides[%arg3, %c1_i32]"));
  CHECK_THAT(ir, Contains("padding 0xFFF0000000000000 : !tile.ptr<bf16> -> tensor<64x32xbf16>"));
  CHECK_THAT(ir, Contains("tile.store_block"));
  CHECK_THAT(ir, Contains("tensor<64x32xf32>, !tile.ptr<f32>"));
}

TEST_CASE("BlockPtr advance and at") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr x = k.arg_ptr<f16>("x");
    Int n = k.arg_i32("n");
    BlockPtr b = make_block_ptr(x, {n, n}, {n, 1}, {0, 0}, {16, 16});
    Tile t = load(b.advance({0, 16})) + load(b.at({16, 0}));
    store(b.advance({16, 16}), t);
  });
  CHECK_THAT(ir, Contains("arith.constant 16 : i32"));
  CHECK_THAT(ir, Contains("arith.addi %c0_i32, %c16_i32 : i32"));
  CHECK_THAT(ir, Contains("tensor<16x16xf16>"));
}

TEST_CASE("masked gather/scatter, other, atomics, addptr") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr x = k.arg_ptr<f32>("x"), acc = k.arg_ptr<f32>("acc");
    Int n = k.arg_i32("n");
    Tile offs = arange(0, 128);
    Tile mask = offs < n;
    Tile v = load(x + program_id(0) * 128, offs, mask, -1.0) + load(x, offs);
    store(x, offs, v, mask);
    store(x, offs, v);
    atomic_add(acc, offs, v, mask);
    atomic_add(acc, offs.col() + arange(0, 2).row(), v.col());  // value broadcasts to offsets
    atomic_add_block(acc, {n, 2}, {2, 1}, {program_id(0), 0}, v.col() + zeros<f32>({128, 2}));
  });
  CHECK_THAT(ir, Contains("tile.atomic_add_block"));
  CHECK_THAT(ir, Contains("tile.addptr %arg0"));
  CHECK_THAT(ir, Contains("mask"));
  CHECK_THAT(ir, Contains("other %cst : !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1>, f32 -> tensor<128xf32>"));
  CHECK_THAT(ir, Contains("tile.store"));
  CHECK_THAT(ir, Contains("tile.atomic_add"));
  CHECK_THAT(ir, Contains("tensor<128x2xf32>, !tile.ptr<f32>, tensor<128x2xi32>"));
}
