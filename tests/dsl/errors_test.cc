// Mistakes are BuildErrors at build time whose message names the op and the shapes/dtypes.
#include <catch2/catch.hpp>

#include "tests/dsl/build_ir.h"

using namespace tile;
using Catch::Matchers::Contains;
using tile::testing::build_ir;

namespace {
// Builds a kernel whose body is `body` and returns the error message ("" if none).
template <class F>
std::string error_of(F body) {
  try {
    build_ir([&](KernelBuilder& k, const Params& p) { body(k, p); }, {{"BLOCK", 64}});
  } catch (const BuildError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("dot shape and dtype errors") {
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { dot(zeros<bf16>({16, 64}), zeros<bf16>({128, 16})); }),
             Contains("dot: inner dims 64 vs 128"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { dot(zeros<bf16>({16, 16}), zeros<f16>({16, 16})); }),
             Contains("dot: operand dtypes differ: bf16 vs f16"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) {
               dot(zeros<bf16>({16, 16}), zeros<bf16>({16, 8}), zeros<bf16>({16, 8}));
             }),
             Contains("dot: accumulator must be f32[16,8], got bf16[16,8]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { dot(zeros<i32>({16, 16}), zeros<i32>({16, 16})); }),
             Contains("dot: operands must be f16, bf16 or f32"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { dot(zeros<f16>({16}), zeros<f16>({16, 16})); }),
             Contains("dot: operands must be 2-D"));
}

TEST_CASE("broadcast and dtype mismatches") {
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { zeros<f32>({64, 32}) + zeros<f32>({16}); }),
             Contains("add: cannot broadcast [64,32] with [16]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { zeros<f32>({4}) * zeros<bf16>({4}); }),
             Contains("mul: dtype mismatch f32[4] vs bf16[4]"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { zeros<bf16>({4}) * k.arg_f32("s"); }),
             Contains("mul: dtype mismatch bf16[4] vs f32"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { arange(0, 4) + 0.5; }),
             Contains("add: literal 0.5 is not an integer"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { where(arange(0, 4), zeros<f32>({4}), 1.0); }),
             Contains("where: condition must be i1"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { broadcast_to(zeros<f32>({3, 1}), {4, 5}); }),
             Contains("broadcast_to: cannot broadcast [3,1] with [4,5]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { exp2(arange(0, 4)); }),
             Contains("exp2: needs a float operand, got i32[4]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { zeros<f32>({4}) + (arange(0, 4) < 2); }),
             Contains("add: dtype mismatch"));
}

TEST_CASE("reduction and shape-op errors") {
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { sum(zeros<f32>({8, 8}), 2); }),
             Contains("sum: axis 2 out of range for f32[8,8]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { max(zeros<f32>({8}), 0); }),
             Contains("max: reducing the 1-D tile f32[8] gives a scalar"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { trans(zeros<f32>({8})); }),
             Contains("trans: needs a 2-D tile, got f32[8]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { expand_dims(zeros<f32>({8}), 3); }),
             Contains("expand_dims: axis 3 out of range"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { arange(4, 4); }), Contains("arange: empty range"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { zeros<f32>({0, 4}); }),
             Contains("full: shape [0,4] has a non-positive dim"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { program_id(3); }),
             Contains("program_id: axis 3 is not 0, 1 or 2"));
}

TEST_CASE("memory op errors") {
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               Ptr p = k.arg_ptr<bf16>("p");
               store_block(p, {8}, {1}, {0}, zeros<f32>({8}));
             }),
             Contains("store_block: value dtype f32 differs from pointer's bf16"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               Ptr p = k.arg_ptr<bf16>("p");
               store(p, arange(0, 8), zeros<f32>({8}));
             }),
             Contains("store: value dtype f32 differs from pointer's bf16"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               load_block(k.arg_ptr<f16>("p"), {8, 8}, {8}, {0, 0}, {4, 4});
             }),
             Contains("load_block: block [4,4] needs 2 shape/strides/offsets each, got 2/1/2"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               load(k.arg_ptr<f16>("p"), zeros<f32>({4}));
             }),
             Contains("load: offsets must be an i32 tile, got f32[4]"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               load(k.arg_ptr<f16>("p"), arange(0, 4), arange(0, 8) < 3);
             }),
             Contains("load: cannot broadcast [8] with [4]"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               atomic_add(k.arg_ptr<bf16>("p"), arange(0, 4), zeros<bf16>({4}));
             }),
             Contains("atomic_add: only f32 is supported"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               atomic_add_block(k.arg_ptr<bf16>("p"), {8, 8}, {8, 1}, {0, 0}, zeros<bf16>({8, 8}));
             }),
             Contains("atomic_add_block: needs an f32 value and pointer, got bf16 into bf16"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               make_block_ptr(k.arg_ptr<f16>("p"), {8}, {1}, {0}, {4}).advance({1, 2});
             }),
             Contains("advance: block [4] needs 1 deltas, got 2"));
}

TEST_CASE("control flow and kernel errors") {
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) {
               for_range(0, 4, 1, zeros<f32>({4}), [&](Int, Tile acc) { return acc.to<bf16>(); });
             }),
             Contains("for_range: carried value 0 changes type from f32[4] to bf16[4]"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) {
               if_(Int(1) == 1, [&] { return zeros<f32>({4}); }, [&] { return zeros<f32>({8}); });
             }),
             Contains("if_: result 0: then yields f32[4] but else yields f32[8]"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { if_(k.arg_i32("n"), [&] {}); }),
             Contains("if_: condition must be i1"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { for_range(0, k.arg_f32("x"), 1, [&](Int) {}); }),
             Contains("for_range: upper bound must be i32, got f32"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) {
               k.arg_i32("n");
               k.arg_i32("n");
             }),
             Contains("'n' is declared twice"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params& p) { p.get_int("BLOCK_M"); }),
             Contains("param: 'BLOCK_M' is not set"));
  CHECK_THAT(error_of([](KernelBuilder&, const Params& p) { p.get_bool("BLOCK"); }),
             Contains("param: 'BLOCK' is 64, not a boolean"));
  // The kernel is named in front of the op's message.
  CHECK_THAT(error_of([](KernelBuilder&, const Params&) { trans(zeros<f32>({8})); }),
             Contains("kernel 'k' {BLOCK=64}: trans:"));
}

TEST_CASE("ops outside a kernel are errors, not crashes") {
  CHECK_THROWS_WITH(program_id(0), Contains("program_id: no kernel is being built"));
}

TEST_CASE("launch hints out of range") {
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { k.set_num_warps(0); }),
             Contains("set_num_warps: need 1..32 warps, got 0"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { k.set_min_blocks_per_sm(0); }),
             Contains("set_min_blocks_per_sm: need 1..32 blocks, got 0"));
  CHECK_THAT(error_of([](KernelBuilder& k, const Params&) { k.set_min_blocks_per_sm(33); }),
             Contains("set_min_blocks_per_sm: need 1..32 blocks, got 33"));
}
