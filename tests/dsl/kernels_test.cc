// The example kernels build and verify, the registry lists them, IR round-trips through the
// parser, hashes are stable, signatures and params behave.
#include <catch2/catch.hpp>

#include <set>

#include "dsl/examples/examples.h"
#include "dsl/module.h"
#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;

TEST_CASE("registry lists the examples with their parameter sets") {
  std::set<std::string> names;
  for (const KernelSpec& s : registered_kernels()) names.insert(s.name);
  CHECK(names.count("vector_add") == 1);
  CHECK(names.count("softmax") == 1);
  CHECK(names.count("gemm") == 1);
  CHECK(find_kernels("gemm").size() == 2);
  CHECK(find_kernels("nope").empty());
}

TEST_CASE("every registered kernel builds, verifies, round-trips and hashes stably") {
  for (const KernelSpec& spec : registered_kernels()) {
    INFO(spec.name << " {" << spec.params.str() << "}");
    mlir::MLIRContext ctx;
    auto module = spec.build(ctx);
    std::string text = ir_text(*module);
    CHECK_THAT(text, Contains("func.func @" + spec.name));
    CHECK_THAT(text, Contains("tile.kernel"));
    CHECK_THAT(text, Contains("tile.num_warps"));
    CHECK_THAT(text, Contains("tile.params = {"));
    CHECK(tile::testing::round_trip(text) == text);
    mlir::MLIRContext ctx2;
    CHECK(ir_hash(*spec.build(ctx2)) == ir_hash(*module));
    CHECK(ir_hash(*module) == fnv1a64(text));
  }
}

TEST_CASE("the examples use only tile, arith, math, scf and func ops") {
  for (const KernelSpec& spec : registered_kernels()) {
    mlir::MLIRContext ctx;
    auto module = spec.build(ctx);
    module->walk([&](mlir::Operation* op) {
      std::string d = op->getName().getDialectNamespace().str();
      INFO(op->getName().getStringRef().str());
      CHECK((d == "tile" || d == "arith" || d == "math" || d == "scf" || d == "func" || d == "builtin"));
    });
  }
}

TEST_CASE("gemm: K loop carries the f32 accumulator, pipelined, ragged edges via padding") {
  KernelSpec spec = find_kernels("gemm").front();
  mlir::MLIRContext ctx;
  std::string text = ir_text(*spec.build(ctx));
  CHECK_THAT(text, Contains("tensor<128x64xbf16>, tensor<64x128xbf16> -> tensor<128x128xf32>"));
  CHECK_THAT(text, Contains("{tile.stages = 3 : i32}"));
  CHECK_THAT(text, Contains("padding 0.000000e+00"));
  CHECK_THAT(text, Contains("tile.num_warps = 8 : i32"));
  CHECK_THAT(text, Contains("DTYPE = \"bf16\""));
}

TEST_CASE("params override through with() and change the IR") {
  KernelSpec spec = find_kernels("gemm").front().with({"BLOCK_M=64", "BLOCK_K=32"});
  CHECK(spec.params.get_int("BLOCK_M") == 64);
  mlir::MLIRContext ctx;
  std::string text = ir_text(*spec.build(ctx));
  CHECK_THAT(text, Contains("tensor<64x32xbf16>"));
  CHECK_THROWS_WITH(find_kernels("gemm").front().with({"BLOCK_M=big"}), Contains("'big' is not a valid value"));
  Params p{{"CAUSAL", false}, {"SCALE", 0.5}, {"DTYPE", DType::bf16}};
  p.set_from_text("CAUSAL=true").set_from_text("HEAD_DIM=128");
  CHECK(p.get_bool("CAUSAL"));
  CHECK(p.get_int("HEAD_DIM") == 128);
  CHECK(p.get_float("SCALE") == 0.5);
  CHECK(p.get_dtype("DTYPE") == DType::bf16);
  CHECK(p.str() == "CAUSAL=true,DTYPE=bf16,HEAD_DIM=128,SCALE=0.5");
}

TEST_CASE("signature lists arguments in order with kinds") {
  KernelSignature sig = find_kernels("vector_add").front().signature();
  REQUIRE(sig.args.size() == 4);
  CHECK(sig.args[0].name == "x");
  CHECK(sig.args[0].kind == ArgKind::ptr);
  CHECK(sig.args[0].pointee == DType::f32);
  CHECK(arg_kind_name(sig.args[2]) == "ptr<f32>");
  CHECK(sig.args[3].name == "n");
  CHECK(sig.args[3].kind == ArgKind::i32);
  CHECK(sig.num_warps == 4);
  CHECK(find_kernels("gemm").front().signature().num_warps == 8);
}

TEST_CASE("vector_add masks its tail") {
  mlir::MLIRContext ctx;
  std::string text = ir_text(*find_kernels("vector_add").front().build(ctx));
  CHECK_THAT(text, Contains("arith.cmpi slt"));
  CHECK_THAT(text, Contains("tile.load %arg0["));
  CHECK_THAT(text, Contains("mask"));
  CHECK_THAT(text, Contains("tile.store"));
}

TEST_CASE("hash helpers") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(hex64(0xabcull) == "0000000000000abc");
}

TEST_CASE("argument assumptions reach the signature and the IR; bad ones are build errors") {
  KernelFn fn = [](KernelBuilder& k, const Params&) {
    Ptr x = k.arg_ptr("x", DType::bf16, ArgAssumption{16});
    Int stride = k.arg_i32("stride", ArgAssumption{8, true});
    Int n = k.arg_i32("n");
    Tile t = load_block(x, {n, Int(64)}, {stride, Int(1)}, {Int(0), Int(0)}, {16, 64});
    store_block(x, {n, Int(64)}, {stride, Int(1)}, {Int(0), Int(0)}, t);
  };
  KernelSpec spec{"assumes", {}, fn};
  KernelSignature sig = spec.signature();
  REQUIRE(sig.args.size() == 3);
  CHECK(sig.args[0].assume.divisor == 16);
  CHECK(!sig.args[0].assume.positive);
  CHECK(sig.args[1].assume.divisor == 8);
  CHECK(sig.args[1].assume.positive);
  CHECK(!sig.args[2].assume.any());
  const std::string ir = testing::build_ir(fn);
  CHECK_THAT(ir, Contains("%arg0: !tile.ptr<bf16> {tile.divisor = 16 : i64}"));
  CHECK_THAT(ir, Contains("%arg1: i32 {tile.divisor = 8 : i64, tile.positive}"));
  CHECK(testing::count(ir, "tile.divisor") == 2);
  CHECK(meets(ArgAssumption{8, true}, 16));
  CHECK(!meets(ArgAssumption{8, true}, 0));
  CHECK(!meets(ArgAssumption{8}, 12));

  CHECK_THROWS_WITH(testing::build_ir([](KernelBuilder& k, const Params&) { k.arg_i32("s", ArgAssumption{12}); }),
                    Contains("'s': assumed divisor must be a power of two"));
  CHECK_THROWS_WITH(testing::build_ir([](KernelBuilder& k, const Params&) { k.arg_ptr("p", DType::f32, ArgAssumption{16, true}); }),
                    Contains("'p': only an i32 can be assumed positive"));
}
