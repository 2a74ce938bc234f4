// for_range (carried values, stages, BlockPtr offsets) and if_ (with and without results).
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;
using tile::testing::count;

TEST_CASE("for_range carries a tuple of tiles and is marked for pipelining") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Int n = k.arg_i32("n");
    auto [acc, m] = for_range(0, n, 64, carry(zeros<f32>({64, 16}), full<f32>({64}, -INFINITY)),
                              [&](Int start, Tile acc, Tile m) {
                                Tile s = full<f32>({64, 16}, start.to<f32>());
                                Tile m_new = max(m, row_max(s));
                                return carry(acc + s, m_new);
                              }, /*stages=*/2);
    store(out, arange(0, 64), row_sum(acc) + m);
  });
  CHECK_THAT(ir, Contains("scf.for %arg2 = %c0_i32 to %arg1 step %c64_i32 iter_args("));
  CHECK_THAT(ir, Contains("-> (tensor<64x16xf32>, tensor<64xf32>)  : i32"));
  CHECK_THAT(ir, Contains("scf.yield"));
  CHECK_THAT(ir, Contains("{tile.stages = 2 : i32}"));
}

TEST_CASE("for_range with one carried value, a scalar, and none") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Tile acc = for_range(0, 4, 1, zeros<f32>({8}), [&](Int, Tile acc) { return acc + 1.0; });
    Int total = for_range(0, 4, 1, Int(0), [&](Int i, Int t) { return t + i; });
    for_range(0, 2, 1, [&](Int i) { store(out, arange(0, 8) + i * 8, acc + total.to<f32>()); });
  });
  CHECK(count(ir, "scf.for") == 3);
  CHECK_THAT(ir, Contains("-> (tensor<8xf32>)"));
  CHECK_THAT(ir, Contains("-> (i32)"));
  CHECK_THAT(ir, !Contains("tile.stages"));
}

TEST_CASE("for_range carries BlockPtr offsets") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr a = k.arg_ptr<bf16>("a"), out = k.arg_ptr<f32>("out");
    Int K = k.arg_i32("K");
    BlockPtr blk = make_block_ptr(a, {16, K}, {K, 1}, {0, 0}, {16, 32});
    auto [acc, end] = for_range(0, cdiv(K, 32), 1, carry(zeros<f32>({16, 16}), blk),
                                [&](Int, Tile acc, BlockPtr blk) {
                                  Tile t = load(blk);
                                  return carry(dot(t, trans(t), acc), blk.advance({0, 32}));
                                }, 3);
    store(make_block_ptr(out, {16, 16}, {16, 1}, {0, 0}, {16, 16}), acc);
  });
  CHECK_THAT(ir, Contains("-> (tensor<16x16xf32>, i32, i32)"));
  CHECK_THAT(ir, Contains("{tile.stages = 3 : i32}"));
}

TEST_CASE("if_ with results and without") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Int n = k.arg_i32("n");
    Tile x = if_(n > 16, [&] { return zeros<f32>({4}); }, [&] { return full<f32>({4}, 2.0); });
    auto [a, b] = if_(n == 0, [&] { return carry(x, Int(1)); }, [&] { return carry(x * 2.0, n); });
    if_(program_id(0) == 0, [&] { store(out, arange(0, 4), a + b.to<f32>()); });
  });
  CHECK(count(ir, "scf.if") == 3);
  CHECK_THAT(ir, Contains("= scf.if %"));
  CHECK_THAT(ir, Contains("-> (tensor<4xf32>)"));
  CHECK_THAT(ir, Contains("-> (tensor<4xf32>, i32)"));
  CHECK_THAT(ir, Contains("} else {"));
}
