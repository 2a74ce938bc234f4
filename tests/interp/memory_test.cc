// Memory ops (block loads/stores with padding and masking, gathers, scatters, load_scalar,
// addptr, atomics), bounds errors, argument checking and grid scheduling.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "tests/interp/kernel_text.h"

using namespace tile;
using namespace tile::interp;
using namespace tile::interp::testing;

namespace {

// Loads a 4x4 block at (r, c) from a 5x7 tensor with strides (sr, sc), stores it densely.
const char* kLoadBlock = R"(
func.func @k(%x: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %r: i32, %c: i32, %sr: i32, %sc: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c4 = arith.constant 4 : i32
  %c5 = arith.constant 5 : i32
  %c7 = arith.constant 7 : i32
  %a = tile.load_block %x shape [%c5, %c7] strides [%sr, %sc] offsets [%r, %c] padding -2.5 : !tile.ptr<bf16> -> tensor<4x4xbf16>
  %f = arith.extf %a : tensor<4x4xbf16> to tensor<4x4xf32>
  tile.store_block %f, %o shape [%c4, %c4] strides [%c4, %c1] offsets [%c0, %c0] : tensor<4x4xf32>, !tile.ptr<f32>
  return
}
)";

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const InterpError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("load_block pads outside the shape, row-major and strided", "[memory]") {
  auto p = compileText(kLoadBlock);
  std::vector<float> t(35);
  for (int k = 0; k < 35; ++k) t[k] = float(k);
  for (bool colMajor : {false, true}) {
    INFO("column-major " << colMajor);
    // Element (i, j) of the 5x7 tensor lives at i*7+j (row-major) or i+5*j (column-major).
    std::vector<float> mem(35);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 7; ++j) mem[colMajor ? i + 5 * j : i * 7 + j] = t[i * 7 + j];
    auto bits = toBits(DType::bf16, mem);
    for (auto [r, c] : std::vector<std::pair<int, int>>{{0, 0}, {3, 5}, {-2, -3}, {1, 2}, {5, 0}}) {
      INFO("offsets " << r << "," << c);
      std::vector<float> o(16, 99);
      run(*p, {}, {buf16(bits, DType::bf16), buf(o), Arg::i32(r), Arg::i32(c), Arg::i32(colMajor ? 1 : 7),
                   Arg::i32(colMajor ? 5 : 1)});
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const int ti = r + i, tj = c + j;
          const bool in = ti >= 0 && ti < 5 && tj >= 0 && tj < 7;
          CHECK(o[i * 4 + j] == (in ? t[ti * 7 + tj] : -2.5f));
        }
    }
  }
}

TEST_CASE("store_block writes only elements inside the shape", "[memory]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>, %r: i32, %c: i32) attributes {tile.kernel} {
  %c1 = arith.constant 1 : i32
  %c5 = arith.constant 5 : i32
  %c7 = arith.constant 7 : i32
  %v = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  tile.store_block %v, %o shape [%c5, %c7] strides [%c7, %c1] offsets [%r, %c] : tensor<4x4xf32>, !tile.ptr<f32>
  return
}
)";
  auto p = compileText(text);
  for (auto [r, c] : std::vector<std::pair<int, int>>{{3, 5}, {-1, -2}, {0, 0}}) {
    std::vector<float> o(35, -7.0f);  // poison: what is not written stays
    run(*p, {}, {buf(o), Arg::i32(r), Arg::i32(c)});
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 7; ++j) {
        const int ti = i - r, tj = j - c;
        const bool in = ti >= 0 && ti < 4 && tj >= 0 && tj < 4;
        CHECK(o[i * 7 + j] == (in ? float(ti * 4 + tj + 1) : -7.0f));
      }
  }
}

TEST_CASE("gather load with mask and other, scatter store with mask", "[memory]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f16>, %o: !tile.ptr<f16>, %n: i32) attributes {tile.kernel} {
  %r = tile.arange 0 to 8 : tensor<8xi32>
  %c7 = arith.constant dense<7> : tensor<8xi32>
  %rev = arith.subi %c7, %r : tensor<8xi32>
  %ns = tile.splat %n : i32 -> tensor<8xi32>
  %m = arith.cmpi slt, %rev, %ns : tensor<8xi32>
  %other = arith.constant -1.0 : f16
  %v = tile.load %x[%rev] mask %m other %other : !tile.ptr<f16>, tensor<8xi32>, tensor<8xi1>, f16 -> tensor<8xf16>
  %m2 = arith.cmpi slt, %r, %ns : tensor<8xi32>
  %v0 = tile.load %x[%r] mask %m2 : !tile.ptr<f16>, tensor<8xi32>, tensor<8xi1> -> tensor<8xf16>
  %s = arith.addf %v, %v0 : tensor<8xf16>
  tile.store %s, %o[%r] mask %m2 : tensor<8xf16>, !tile.ptr<f16>, tensor<8xi32>, tensor<8xi1>
  return
}
)";
  // Only 5 elements exist: lanes reading index >= 5 are masked off and must not be checked.
  std::vector<float> x = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f};
  auto xb = toBits(DType::f16, x);
  std::vector<uint16_t> o(5, f32_to_f16_bits(99.0f));
  runText(text, {}, {buf16(xb, DType::f16), buf16(o, DType::f16), Arg::i32(5)});
  auto of = fromBits(DType::f16, o);
  // lane k: (7-k < 5 ? x[7-k] : -1) + (k < 5 ? x[k] : 0); lanes k >= 5 are not stored.
  std::vector<float> want = {-0.5f, 0.5f, 1.5f, 4.5f + 3.5f, 3.5f + 4.5f};
  CHECK(of == want);
}

TEST_CASE("load_scalar and addptr with negative offsets", "[memory]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<i32>, %o: !tile.ptr<i32>) attributes {tile.kernel} {
  %c1 = arith.constant 1 : i32
  %c6 = arith.constant 6 : i64
  %m2 = arith.constant -2 : i32
  %p = tile.addptr %x, %c6 : !tile.ptr<i32>, i64
  %q = tile.addptr %p, %m2 : !tile.ptr<i32>, i32
  %a = tile.load_scalar %q[%c1] : !tile.ptr<i32>, i32 -> i32
  %b = tile.load_scalar %p[%m2] : !tile.ptr<i32>, i32 -> i32
  %s = arith.addi %a, %b : i32
  %t = tile.splat %s : i32 -> tensor<1xi32>
  %po = tile.addptr %o, %c1 : !tile.ptr<i32>, i32
  %z = arith.constant 0 : i32
  tile.store_block %t, %po shape [%c1] strides [%c1] offsets [%z] : tensor<1xi32>, !tile.ptr<i32>
  return
}
)";
  std::vector<int32_t> x = {0, 10, 20, 30, 40, 50, 60, 70}, o(2, 0);
  runText(text, {}, {buf(x), buf(o)});
  CHECK(o == std::vector<int32_t>{0, 50 + 40});
}

TEST_CASE("atomic_add from many programs on several threads gives the exact sum", "[memory][atomics]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %r = tile.arange 0 to 64 : tensor<64xi32>
  %c16 = arith.constant dense<16> : tensor<64xi32>
  %slot = arith.remsi %r, %c16 : tensor<64xi32>
  %ps = tile.splat %pid : i32 -> tensor<64xi32>
  %v0 = arith.addi %ps, %r : tensor<64xi32>
  %v = arith.sitofp %v0 : tensor<64xi32> to tensor<64xf32>
  %c3 = arith.constant dense<3> : tensor<64xi32>
  %odd = arith.cmpi ne, %ps, %c3 : tensor<64xi32>
  tile.atomic_add %v, %o[%slot] mask %odd : tensor<64xf32>, !tile.ptr<f32>, tensor<64xi32>, tensor<64xi1>
  return
}
)";
  auto p = compileText(text);
  const int programs = 500;
  std::vector<double> want(16, 0);
  for (int pid = 0; pid < programs; ++pid)
    if (pid != 3)
      for (int r = 0; r < 64; ++r) want[r % 16] += pid + r;
  for (int threads : {1, 4}) {
    std::vector<float> o(16, 0.0f);
    run(*p, {programs, 1, 1}, {buf(o)}, {uint64_t(threads), threads, true});
    for (int k = 0; k < 16; ++k) CHECK(double(o[k]) == want[k]);  // integers < 2^24: exact
  }
}

TEST_CASE("atomic_add_block from many programs adds inside the shape and skips the rest", "[memory][atomics]") {
  // Each program adds (pid + 1) * (10 * row + col) over a 4x8 block at (1, 2) of a 5x9 tensor
  // with row stride 9: rows 1..4 and columns 2..8 exist, column 9 is outside the shape.
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %c1 = arith.constant 1 : i32
  %c2 = arith.constant 2 : i32
  %c5 = arith.constant 5 : i32
  %c9 = arith.constant 9 : i32
  %r = tile.arange 0 to 4 : tensor<4xi32>
  %c = tile.arange 0 to 8 : tensor<8xi32>
  %r2 = tile.expand_dims %r, 1 : tensor<4xi32> -> tensor<4x1xi32>
  %c2d = tile.expand_dims %c, 0 : tensor<8xi32> -> tensor<1x8xi32>
  %rb = tile.broadcast %r2 : tensor<4x1xi32> -> tensor<4x8xi32>
  %cb = tile.broadcast %c2d : tensor<1x8xi32> -> tensor<4x8xi32>
  %ten = arith.constant dense<10> : tensor<4x8xi32>
  %r10 = arith.muli %rb, %ten : tensor<4x8xi32>
  %v0 = arith.addi %r10, %cb : tensor<4x8xi32>
  %p1 = arith.addi %pid, %c1 : i32
  %ps = tile.splat %p1 : i32 -> tensor<4x8xi32>
  %v1 = arith.muli %v0, %ps : tensor<4x8xi32>
  %v = arith.sitofp %v1 : tensor<4x8xi32> to tensor<4x8xf32>
  tile.atomic_add_block %v, %o shape [%c5, %c9] strides [%c9, %c1] offsets [%c1, %c2] : tensor<4x8xf32>, !tile.ptr<f32>
  return
}
)";
  auto p = compileText(text);
  const int programs = 300;
  const double sum = programs * (programs + 1) / 2.0;
  for (int threads : {1, 4}) {
    std::vector<float> o(45, 0.0f);
    run(*p, {programs, 1, 1}, {buf(o)}, {uint64_t(threads), threads, true});
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 9; ++j) {
        double want = (i >= 1 && j >= 2) ? sum * (10 * (i - 1) + (j - 2)) : 0.0;
        INFO("row " << i << " col " << j);
        CHECK(double(o[size_t(i * 9 + j)]) == want);  // integers < 2^24: exact
      }
  }
}

TEST_CASE("out-of-bounds accesses throw with the op, argument, index, size and program", "[memory][errors]") {
  auto p = compileText(kLoadBlock);
  std::vector<uint16_t> small(34);  // one element short of 5x7
  std::vector<float> o(16);
  const std::string m = errorOf([&] {
    run(*p, {2, 1, 1}, {buf16(small, DType::bf16), buf(o), Arg::i32(2), Arg::i32(3), Arg::i32(7), Arg::i32(1)});
  });
  INFO(m);
  CHECK_THAT(m, Catch::Contains("tile.load_block") && Catch::Contains("element index 34") &&
                    Catch::Contains("kernel argument #0") && Catch::Contains("buffer of 34 bf16") &&
                    Catch::Contains("program (") && Catch::Contains("kernel.mlir:"));

  const char* gather = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>, %base: i32) attributes {tile.kernel} {
  %r = tile.arange 0 to 4 : tensor<4xi32>
  %b = tile.splat %base : i32 -> tensor<4xi32>
  %i = arith.addi %r, %b : tensor<4xi32>
  %v = tile.load %x[%i] : !tile.ptr<f32>, tensor<4xi32> -> tensor<4xf32>
  tile.store %v, %o[%i] : tensor<4xf32>, !tile.ptr<f32>, tensor<4xi32>
  tile.atomic_add %v, %o[%r] : tensor<4xf32>, !tile.ptr<f32>, tensor<4xi32>
  %c = arith.constant 0 : i32
  %s = tile.load_scalar %x[%base] : !tile.ptr<f32>, i32 -> f32
  return
}
)";
  auto g = compileText(gather);
  std::vector<float> x(8), y(6, 5.0f);
  CHECK_THAT(errorOf([&] { run(*g, {}, {buf(x), buf(y), Arg::i32(-1)}); }),
             Catch::Contains("tile.load at") && Catch::Contains("element index -1") && Catch::Contains("program (0, 0, 0)"));
  CHECK_THAT(errorOf([&] { run(*g, {}, {buf(x), buf(y), Arg::i32(3)}); }),
             Catch::Contains("tile.store at") && Catch::Contains("element index 6") &&
                 Catch::Contains("kernel argument #1") && Catch::Contains("buffer of 6 f32"));
  CHECK(y == std::vector<float>(6, 5.0f));  // a failing store writes nothing
  std::vector<float> tiny(3);
  CHECK_THAT(errorOf([&] { run(*g, {}, {buf(x), buf(tiny), Arg::i32(-4)}); }),
             Catch::Contains("element index -4"));
  std::vector<float> x3(3), y8(8);
  CHECK_THAT(errorOf([&] { run(*g, {}, {buf(x3), buf(y8), Arg::i32(0)}); }),
             Catch::Contains("tile.load at") && Catch::Contains("element index 3"));
}

TEST_CASE("load_scalar out of bounds names the op", "[memory][errors]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %i: i32) attributes {tile.kernel} {
  %s = tile.load_scalar %x[%i] : !tile.ptr<f32>, i32 -> f32
  return
}
)";
  std::vector<float> x(4);
  auto p = compileText(text);
  CHECK_NOTHROW(run(*p, {}, {buf(x), Arg::i32(3)}));
  CHECK_THAT(errorOf([&] { run(*p, {}, {buf(x), Arg::i32(4)}); }),
             Catch::Contains("tile.load_scalar") && Catch::Contains("element index 4") &&
                 Catch::Contains("buffer of 4 f32"));
}

TEST_CASE("atomic_add out of bounds names the op; masked-off lanes are not checked", "[memory][errors]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel} {
  %r = tile.arange 0 to 8 : tensor<8xi32>
  %ns = tile.splat %n : i32 -> tensor<8xi32>
  %m = arith.cmpi slt, %r, %ns : tensor<8xi32>
  %v = arith.constant dense<2.0> : tensor<8xf32>
  tile.atomic_add %v, %o[%r] mask %m : tensor<8xf32>, !tile.ptr<f32>, tensor<8xi32>, tensor<8xi1>
  return
}
)";
  auto p = compileText(text);
  std::vector<float> o(5, 0.0f);
  CHECK_NOTHROW(run(*p, {}, {buf(o), Arg::i32(5)}));
  CHECK(o == std::vector<float>(5, 2.0f));
  CHECK_THAT(errorOf([&] { run(*p, {}, {buf(o), Arg::i32(6)}); }),
             Catch::Contains("tile.atomic_add") && Catch::Contains("element index 5"));
  CHECK(o == std::vector<float>(5, 2.0f));
}

TEST_CASE("argument count and kind mismatches are reported with index and expected type", "[errors]") {
  auto p = compileText(kLoadBlock);
  std::vector<uint16_t> x(35);
  std::vector<float> o(16);
  std::vector<int32_t> wrong(16);
  CHECK_THAT(errorOf([&] { run(*p, {}, {buf16(x, DType::bf16), buf(o)}); }),
             Catch::Contains("takes 6 arguments, got 2"));
  CHECK_THAT(errorOf([&] {
               run(*p, {}, {buf16(x, DType::f16), buf(o), Arg::i32(0), Arg::i32(0), Arg::i32(7), Arg::i32(1)});
             }),
             Catch::Contains("argument #0") && Catch::Contains("buffer of bf16") && Catch::Contains("got buffer of 35 f16"));
  CHECK_THAT(errorOf([&] {
               run(*p, {}, {buf16(x, DType::bf16), buf(wrong), Arg::i32(0), Arg::i32(0), Arg::i32(7), Arg::i32(1)});
             }),
             Catch::Contains("argument #1") && Catch::Contains("!tile.ptr<f32>"));
  CHECK_THAT(errorOf([&] {
               run(*p, {}, {buf16(x, DType::bf16), buf(o), Arg::f32(0), Arg::i32(0), Arg::i32(7), Arg::i32(1)});
             }),
             Catch::Contains("argument #2") && Catch::Contains("expected an i32 scalar") && Catch::Contains("got f32"));
  CHECK_THAT(errorOf([&] {
               run(*p, {}, {buf16(x, DType::bf16), Arg::i32(3), Arg::i32(0), Arg::i32(0), Arg::i32(7), Arg::i32(1)});
             }),
             Catch::Contains("argument #1") && Catch::Contains("expected a buffer of f32"));
}

TEST_CASE("unsupported ops are rejected when compiling, naming the op", "[errors]") {
  const char* text = R"(
func.func @k(%x: i32) attributes {tile.kernel} {
  %a = arith.addi %x, %x : i32
  %b = arith.index_cast %a : i32 to index
  %f = arith.sitofp %a : i32 to f32
  %t = math.atan2 %f, %f : f32
  return
}
)";
  CHECK_THAT(errorOf([&] { compileText(text); }),
             Catch::Contains("math.atan2") && Catch::Contains("not supported") && Catch::Contains("kernel.mlir:6"));
}

namespace {

// Each program writes a disjoint row: the result cannot depend on the order.
const char* kRaceFree = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>, %acc: !tile.ptr<f32>) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %n = tile.num_programs 0 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c32 = arith.constant 32 : i32
  %a = tile.load_block %x shape [%n, %c32] strides [%c32, %c1] offsets [%pid, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<1x32xf32>
  %e = math.exp %a : tensor<1x32xf32>
  %s = tile.reduce "sum" %e, 1 : tensor<1x32xf32> -> tensor<1xf32>
  %sb = tile.broadcast %s : tensor<1xf32> -> tensor<1xf32>
  %eb = tile.expand_dims %sb, 1 : tensor<1xf32> -> tensor<1x1xf32>
  %bb = tile.broadcast %eb : tensor<1x1xf32> -> tensor<1x32xf32>
  %q = arith.divf %e, %bb : tensor<1x32xf32>
  tile.store_block %q, %o shape [%n, %c32] strides [%c32, %c1] offsets [%pid, %c0] : tensor<1x32xf32>, !tile.ptr<f32>
  %r = tile.arange 0 to 32 : tensor<32xi32>
  %ones = arith.constant dense<1.0> : tensor<32xf32>
  tile.atomic_add %ones, %acc[%r] : tensor<32xf32>, !tile.ptr<f32>, tensor<32xi32>
  return
}
)";

// Programs 0 and 1 store different values to the same element: the last writer wins.
const char* kRacy = R"(
func.func @k(%o: !tile.ptr<i32>) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %z = arith.constant dense<0> : tensor<1xi32>
  %v = tile.splat %pid : i32 -> tensor<1xi32>
  tile.store %v, %o[%z] : tensor<1xi32>, !tile.ptr<i32>, tensor<1xi32>
  return
}
)";

}  // namespace

TEST_CASE("race-free kernels give identical results for every seed and thread count", "[grid]") {
  auto p = compileText(kRaceFree);
  const int rows = 37;
  std::vector<float> x(rows * 32);
  for (size_t k = 0; k < x.size(); ++k) x[k] = std::sin(float(k)) * 3.0f;
  std::vector<float> first;
  for (uint64_t seed : {0u, 1u, 2u, 99u})
    for (int threads : {1, 3, 0}) {
      std::vector<float> o(x.size(), -1.0f), acc(32, 0.0f);
      run(*p, {rows, 1, 1}, {buf(x), buf(o), buf(acc)}, {seed, threads, true});
      if (first.empty()) first = o;
      CHECK(o == first);
      CHECK(acc == std::vector<float>(32, float(rows)));
    }
}

TEST_CASE("a racy kernel shows different results across seeds (the order is really shuffled)", "[grid]") {
  auto p = compileText(kRacy);
  std::set<int32_t> seen;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    std::vector<int32_t> o(1, -1);
    run(*p, {2, 1, 1}, {buf(o)}, {seed, 1, true});
    seen.insert(o[0]);
  }
  CHECK(seen == std::set<int32_t>{0, 1});
  std::vector<int32_t> o(1, -1);
  run(*p, {2, 1, 1}, {buf(o)}, {5, 1, false});  // unshuffled: program 1 runs last
  CHECK(o[0] == 1);
}

TEST_CASE("an error in one program stops the others and reaches the caller", "[grid][errors]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>, %bad: i32) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %isbad = arith.cmpi eq, %pid, %bad : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c1000 = arith.constant 1000000 : i32
  %idx = arith.select %isbad, %c1000, %pid : i32
  %v = arith.constant dense<1.0> : tensor<1xf32>
  %i = tile.splat %idx : i32 -> tensor<1xi32>
  tile.store %v, %o[%i] : tensor<1xf32>, !tile.ptr<f32>, tensor<1xi32>
  return
}
)";
  auto p = compileText(text);
  for (int threads : {1, 4}) {
    std::vector<float> o(4096, 0.0f);
    const std::string m = errorOf([&] { run(*p, {4096, 1, 1}, {buf(o), Arg::i32(17)}, {7, threads, true}); });
    CHECK_THAT(m, Catch::Contains("program (17, 0, 0)") && Catch::Contains("element index 1000000"));
    int written = 0;
    for (float v : o) written += v == 1.0f;
    CHECK(written < 4096);  // the failing program's store never happened
  }
}

TEST_CASE("Arg::buffer of a strided view covers the reachable elements", "[args]") {
  std::vector<float> mem(100);
  TensorView v(mem.data(), DType::f32, {3, 4}, {20, 2});
  const Arg a = Arg::buffer(v);
  CHECK(a.numel == 1 + 2 * 20 + 3 * 2);
  CHECK(a.dtype == DType::f32);
  TensorView neg(mem.data() + 50, DType::f32, {3}, {-1});
  CHECK_THROWS_AS(Arg::buffer(neg), InterpError);
}
