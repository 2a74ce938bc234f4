// Scalar ops: program ids, i32/f32 arithmetic, comparisons, logic, select, cdiv, min/max.
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;
using tile::testing::count;

TEST_CASE("program ids and integer arithmetic") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<i32>("out");
    Int n = k.arg_i32("n");
    Int pid = program_id(0), np = num_programs(1);
    Int v = (pid + 1) * n - np / 2 % 3;
    v = max(min(v, n), 0);
    store(out, arange(0, 4), full({4}, cdiv(v, 16)));
  });
  CHECK_THAT(ir, Contains("tile.program_id 0 : i32"));
  CHECK_THAT(ir, Contains("tile.num_programs 1 : i32"));
  for (const char* op : {"arith.addi", "arith.muli", "arith.subi", "arith.divsi", "arith.remsi", "arith.minsi",
                         "arith.maxsi"})
    CHECK_THAT(ir, Contains(op));
  CHECK_THAT(ir, Contains("arith.constant 16 : i32"));
  CHECK(count(ir, "arith.constant 1 : i32") == 1);  // constants are uniqued
}

TEST_CASE("float scalars, comparisons, logic and select") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr out = k.arg_ptr<f32>("out");
    Float s = k.arg_f32("scale");
    Int n = k.arg_i32("n");
    Bool c = (n > 4) & !(n == 7) | (s <= 0.5);
    Float v = select(c, s * 2.0 - 1, exp2(s));
    store(out, arange(0, 2), full({2}, v));
  });
  CHECK_THAT(ir, Contains("arith.cmpi sgt"));
  CHECK_THAT(ir, Contains("arith.cmpi eq"));
  CHECK_THAT(ir, Contains("arith.cmpf ole"));
  CHECK_THAT(ir, Contains("arith.xori"));
  CHECK_THAT(ir, Contains("arith.andi"));
  CHECK_THAT(ir, Contains("arith.ori"));
  CHECK_THAT(ir, Contains("arith.select"));
  CHECK_THAT(ir, Contains("math.exp2 %arg1 : f32"));
  CHECK_THAT(ir, Contains("arith.constant 2.000000e+00 : f32"));
  CHECK_THAT(ir, Contains("arith.constant 1.000000e+00 : f32"));  // int literal adopts f32
}

TEST_CASE("scalar casts and load_scalar") {
  std::string ir = build_ir([](KernelBuilder& k, const Params&) {
    Ptr lens = k.arg_ptr<i32>("lens");
    Ptr out = k.arg_ptr<f32>("out");
    Int len = load_scalar(lens, program_id(0) + 1);
    store(out, arange(0, 2), full({2}, len.to<f32>() / 3));
  });
  CHECK_THAT(ir, Contains("tile.load_scalar %arg0["));
  CHECK_THAT(ir, Contains("arith.sitofp"));
  CHECK_THAT(ir, Contains("arith.divf"));
}
