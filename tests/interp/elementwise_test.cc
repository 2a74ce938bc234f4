// Elementwise ops: float math (tile and scalar), 16-bit rounding, integer math, compares,
// select, casts. Expected values are computed with the same float (not double) operations.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>

#include "tests/interp/kernel_text.h"

using namespace tile;
using namespace tile::interp;
using namespace tile::interp::testing;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<float> xs() {
  return {0.0f, -0.0f, 1.5f, -2.25f, kNaN, kInf, -kInf, 1e-3f, 3.0f, 1e-40f, 6.5e4f, -7.0f, 0.1f, 2.0f, -0.5f, 100.0f};
}
std::vector<float> ys() {
  return {-0.0f, 0.0f, 3.0f, kNaN, 1.0f, 2.0f, kInf, 7.0f, -3.0f, 0.3f, 1e-2f, -7.0f, 0.7f, -2.0f, 0.25f, -1e3f};
}

const char* kBinary = R"(
func.func @k(%x: !tile.ptr<f32>, %y: !tile.ptr<f32>, %o: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 16 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<16xf32>
  %b = tile.load_block %y shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<16xf32>
  %r = OPERATION
  tile.store_block %r, %o shape [%n] strides [%c1] offsets [%c0] : tensor<16xf32>, !tile.ptr<f32>
  return
}
)";

void checkFloatOp(const std::string& op, std::function<float(float, float)> want) {
  INFO(op);
  auto x = xs(), y = ys();
  std::vector<float> out(16, -123.0f);
  auto p = compileText(subst(kBinary, "OPERATION", op));
  run(*p, {}, {buf(x), buf(y), buf(out)});
  for (int k = 0; k < 16; ++k) {
    INFO("k=" << k << " x=" << x[k] << " y=" << y[k] << " got " << out[k] << " want " << want(x[k], y[k]));
    CHECK(sameBits(out[k], want(x[k], y[k])));
  }
}

}  // namespace

TEST_CASE("float binary ops on tiles compute in float", "[elementwise]") {
  checkFloatOp("arith.addf %a, %b : tensor<16xf32>", [](float a, float b) { return a + b; });
  checkFloatOp("arith.subf %a, %b : tensor<16xf32>", [](float a, float b) { return a - b; });
  checkFloatOp("arith.mulf %a, %b : tensor<16xf32>", [](float a, float b) { return a * b; });
  checkFloatOp("arith.divf %a, %b : tensor<16xf32>", [](float a, float b) { return a / b; });
  checkFloatOp("math.fma %a, %b, %a : tensor<16xf32>", [](float a, float b) { return std::fma(a, b, a); });
}

TEST_CASE("maximumf/minimumf propagate NaN, maxnumf/minnumf ignore it", "[elementwise]") {
  auto nanOr = [](float a, float b, float r) { return (a != a || b != b) ? kNaN : r; };
  checkFloatOp("arith.maximumf %a, %b : tensor<16xf32>", [&](float a, float b) {
    if (a == 0 && b == 0) return std::signbit(a) ? b : a;  // +0 > -0
    return nanOr(a, b, a > b ? a : b);
  });
  checkFloatOp("arith.minimumf %a, %b : tensor<16xf32>", [&](float a, float b) {
    if (a == 0 && b == 0) return std::signbit(a) ? a : b;
    return nanOr(a, b, a < b ? a : b);
  });
  checkFloatOp("arith.maxnumf %a, %b : tensor<16xf32>", [](float a, float b) {
    if (a != a) return b;
    if (b != b) return a;
    if (a == 0 && b == 0) return std::signbit(a) ? b : a;
    return a > b ? a : b;
  });
  checkFloatOp("arith.minnumf %a, %b : tensor<16xf32>", [](float a, float b) {
    if (a != a) return b;
    if (b != b) return a;
    if (a == 0 && b == 0) return std::signbit(a) ? a : b;
    return a < b ? a : b;
  });
}

TEST_CASE("float unary math ops use the float std:: functions", "[elementwise]") {
  const std::vector<std::pair<std::string, std::function<float(float)>>> ops = {
      {"arith.negf", [](float a) { return -a; }},
      {"math.exp2", [](float a) { return std::exp2(a); }},
      {"math.log2", [](float a) { return std::log2(a); }},
      {"math.exp", [](float a) { return std::exp(a); }},
      {"math.log", [](float a) { return std::log(a); }},
      {"math.tanh", [](float a) { return std::tanh(a); }},
      {"math.sqrt", [](float a) { return std::sqrt(a); }},
      {"math.rsqrt", [](float a) { return 1.0f / std::sqrt(a); }},
      {"math.absf", [](float a) { return std::fabs(a); }},
  };
  for (auto& [name, fn] : ops) {
    auto f = fn;
    checkFloatOp(name + " %a : tensor<16xf32>", [f](float a, float) { return f(a); });
  }
}

TEST_CASE("float ops on scalars", "[elementwise]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>, %s: f32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c4 = arith.constant 4 : i32
  %a = tile.load_scalar %x[%c0] : !tile.ptr<f32>, i32 -> f32
  %b = tile.load_scalar %x[%c1] : !tile.ptr<f32>, i32 -> f32
  %d = arith.divf %a, %b : f32
  %m = arith.maximumf %a, %s : f32
  %e = math.exp2 %b : f32
  %sum = arith.addf %d, %s : f32
  %t = tile.splat %d : f32 -> tensor<1xf32>
  %u = tile.splat %m : f32 -> tensor<1xf32>
  %v = tile.splat %e : f32 -> tensor<1xf32>
  %w = tile.splat %sum : f32 -> tensor<1xf32>
  %c2 = arith.constant 2 : i32
  %c3 = arith.constant 3 : i32
  tile.store_block %t, %o shape [%c4] strides [%c1] offsets [%c0] : tensor<1xf32>, !tile.ptr<f32>
  tile.store_block %u, %o shape [%c4] strides [%c1] offsets [%c1] : tensor<1xf32>, !tile.ptr<f32>
  tile.store_block %v, %o shape [%c4] strides [%c1] offsets [%c2] : tensor<1xf32>, !tile.ptr<f32>
  tile.store_block %w, %o shape [%c4] strides [%c1] offsets [%c3] : tensor<1xf32>, !tile.ptr<f32>
  return
}
)";
  std::vector<float> x = {1.0f, 3.0f};
  std::vector<float> out(4, 0.0f);
  const float s = kNaN;
  runText(text, {}, {buf(x), buf(out), Arg::f32(s)});
  CHECK(sameBits(out[0], 1.0f / 3.0f));
  CHECK(std::isnan(out[1]));
  CHECK(sameBits(out[2], std::exp2(3.0f)));
  CHECK(std::isnan(out[3]));
}

TEST_CASE("16-bit float results are rounded once to the element type", "[elementwise][cast]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<bf16>, %y: !tile.ptr<bf16>, %o: !tile.ptr<bf16>, %p: !tile.ptr<f16>, %q: !tile.ptr<f16>, %r: !tile.ptr<f16>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 16 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<bf16> -> tensor<16xbf16>
  %b = tile.load_block %y shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<bf16> -> tensor<16xbf16>
  %s = arith.addf %a, %b : tensor<16xbf16>
  %m = arith.mulf %s, %b : tensor<16xbf16>
  tile.store_block %m, %o shape [%n] strides [%c1] offsets [%c0] : tensor<16xbf16>, !tile.ptr<bf16>
  %c = tile.load_block %p shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f16> -> tensor<16xf16>
  %d = tile.load_block %q shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f16> -> tensor<16xf16>
  %e = arith.divf %c, %d : tensor<16xf16>
  %f = math.exp2 %e : tensor<16xf16>
  tile.store_block %f, %r shape [%n] strides [%c1] offsets [%c0] : tensor<16xf16>, !tile.ptr<f16>
  return
}
)";
  std::vector<float> a(16), b(16);
  for (int k = 0; k < 16; ++k) {
    a[k] = round_to(DType::bf16, 1.0f + 0.37f * k);
    b[k] = round_to(DType::bf16, 0.011f * (k + 1) - 0.05f);
  }
  auto ab = toBits(DType::bf16, a), bb = toBits(DType::bf16, b);
  auto af = toBits(DType::f16, a), bf = toBits(DType::f16, b);
  std::vector<uint16_t> o(16), r(16);
  runText(text, {}, {buf16(ab, DType::bf16), buf16(bb, DType::bf16), buf16(o, DType::bf16),
                     buf16(af, DType::f16), buf16(bf, DType::f16), buf16(r, DType::f16)});
  auto ob = fromBits(DType::bf16, o), rf = fromBits(DType::f16, r);
  for (int k = 0; k < 16; ++k) {
    const float s = round_to(DType::bf16, a[k] + b[k]);
    CHECK(sameBits(ob[k], round_to(DType::bf16, s * b[k])));
    const float c = round_to(DType::f16, a[k]), d = round_to(DType::f16, b[k]);
    CHECK(sameBits(rf[k], round_to(DType::f16, std::exp2(round_to(DType::f16, c / d)))));
  }
}

TEST_CASE("truncf f32 -> bf16/f16 rounds to nearest even, exactly", "[cast]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>, %p: !tile.ptr<bf16>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 8 : i32
  %n2 = arith.constant 16 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<8xf32>
  %b = arith.truncf %a : tensor<8xf32> to tensor<8xbf16>
  %h = arith.truncf %a : tensor<8xf32> to tensor<8xf16>
  %be = arith.extf %b : tensor<8xbf16> to tensor<8xf32>
  %he = arith.extf %h : tensor<8xf16> to tensor<8xf32>
  tile.store_block %be, %o shape [%n2] strides [%c1] offsets [%c0] : tensor<8xf32>, !tile.ptr<f32>
  tile.store_block %he, %o shape [%n2] strides [%c1] offsets [%n] : tensor<8xf32>, !tile.ptr<f32>
  tile.store_block %b, %p shape [%n] strides [%c1] offsets [%c0] : tensor<8xbf16>, !tile.ptr<bf16>
  return
}
)";
  const float t8 = std::ldexp(1.0f, -8), t11 = std::ldexp(1.0f, -11);
  std::vector<float> x = {1.0f + t8,          // bf16 tie -> even (1.0); f16 exact
                          1.0f + 3 * t8,      // bf16 tie -> even (1 + 2^-6)
                          1.0f + t11,         // f16 tie -> even (1.0)
                          1.0f + 3 * t11,     // f16 tie -> even (1 + 2^-9)
                          65519.0f,           // f16: rounds down to 65504
                          65520.0f,           // f16: ties away to infinity
                          -1.0f - t8 - t8 / 4, // bf16: just above the tie -> away
                          kNaN};
  std::vector<float> out(16, 0.0f);
  std::vector<uint16_t> bits(8, 0);
  runText(text, {}, {buf(x), buf(out), buf16(bits, DType::bf16)});
  const std::vector<float> wantBf16 = {1.0f, 1.0f + 4 * t8, 1.0f, 1.0f, 65536.0f, 65536.0f, -1.0f - 2 * t8, kNaN};
  const std::vector<float> wantF16 = {1.0f + t8, 1.0f + 3 * t8, 1.0f, 1.0f + 4 * t11, 65504.0f, kInf,
                                      round_to(DType::f16, x[6]), kNaN};
  for (int k = 0; k < 8; ++k) {
    INFO("k=" << k);
    CHECK(sameBits(out[k], wantBf16[k]));
    CHECK(sameBits(out[8 + k], wantF16[k]));
    CHECK(sameBits(out[k], round_to(DType::bf16, x[k])));
    CHECK(sameBits(out[8 + k], round_to(DType::f16, x[k])));
    CHECK(sameBits(bf16_bits_to_f32(bits[k]), wantBf16[k]));
  }
}

TEST_CASE("int <-> float casts and bitcast", "[cast]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %i: !tile.ptr<i32>, %o: !tile.ptr<f32>, %oi: !tile.ptr<i32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 4 : i32
  %n3 = arith.constant 12 : i32
  %c8 = arith.constant 8 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<4xf32>
  %b = tile.load_block %i shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<i32> -> tensor<4xi32>
  %fi = arith.fptosi %a : tensor<4xf32> to tensor<4xi32>
  %bits = arith.bitcast %a : tensor<4xf32> to tensor<4xi32>
  %back = arith.bitcast %bits : tensor<4xi32> to tensor<4xf32>
  %if = arith.sitofp %b : tensor<4xi32> to tensor<4xf32>
  %ib = arith.sitofp %b : tensor<4xi32> to tensor<4xbf16>
  %ibf = arith.extf %ib : tensor<4xbf16> to tensor<4xf32>
  tile.store_block %if, %o shape [%n3] strides [%c1] offsets [%c0] : tensor<4xf32>, !tile.ptr<f32>
  tile.store_block %ibf, %o shape [%n3] strides [%c1] offsets [%n] : tensor<4xf32>, !tile.ptr<f32>
  tile.store_block %back, %o shape [%n3] strides [%c1] offsets [%c8] : tensor<4xf32>, !tile.ptr<f32>
  tile.store_block %fi, %oi shape [%c8] strides [%c1] offsets [%c0] : tensor<4xi32>, !tile.ptr<i32>
  tile.store_block %bits, %oi shape [%c8] strides [%c1] offsets [%n] : tensor<4xi32>, !tile.ptr<i32>
  return
}
)";
  std::vector<float> x = {-2.75f, 3e9f, kNaN, 7.99f};
  std::vector<int32_t> i = {-5, 16777217, 257, 2147483647};
  std::vector<float> o(12);
  std::vector<int32_t> oi(8);
  runText(text, {}, {buf(x), buf(i), buf(o), buf(oi)});
  CHECK(oi[0] == -2);
  CHECK(oi[1] == 2147483647);  // saturates
  CHECK(oi[2] == 0);           // NaN -> 0
  CHECK(oi[3] == 7);
  CHECK(o[0] == -5.0f);
  CHECK(o[1] == 16777216.0f);  // round to nearest even in f32
  CHECK(o[5] == 16777216.0f);  // one rounding to bf16 (no double rounding)
  CHECK(o[6] == 256.0f);       // 257 -> bf16 tie -> even
  CHECK(o[7] == 2147483648.0f);
  uint32_t b0;
  __builtin_memcpy(&b0, &x[0], 4);
  CHECK(uint32_t(oi[4]) == b0);
  CHECK(sameBits(o[8], x[0]));
  CHECK(std::isnan(o[10]));
}

namespace {

const char* kIntBinary = R"(
func.func @k(%x: !tile.ptr<i32>, %y: !tile.ptr<i32>, %o: !tile.ptr<i32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 8 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<i32> -> tensor<8xi32>
  %b = tile.load_block %y shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<i32> -> tensor<8xi32>
  %r = OPERATION
  tile.store_block %r, %o shape [%n] strides [%c1] offsets [%c0] : tensor<8xi32>, !tile.ptr<i32>
  return
}
)";

void checkIntOp(const std::string& op, std::vector<int32_t> x, std::vector<int32_t> y, std::vector<int32_t> want) {
  INFO(op);
  std::vector<int32_t> out(8, 0);
  runText(subst(kIntBinary, "OPERATION", op + " %a, %b : tensor<8xi32>"), {}, {buf(x), buf(y), buf(out)});
  CHECK(out == want);
}

}  // namespace

TEST_CASE("integer ops follow arith semantics (signed/unsigned, wrap, rounding of divisions)", "[elementwise][int]") {
  const int32_t mn = std::numeric_limits<int32_t>::min(), mx = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> x = {7, -7, 7, -7, mx, mn, 0, 5};
  std::vector<int32_t> y = {2, 2, -2, -2, 1, -1, 3, 1};
  checkIntOp("arith.addi", x, y, {9, -5, 5, -9, mn, mx, 3, 6});
  checkIntOp("arith.subi", x, y, {5, -9, 9, -5, mx - 1, mn + 1, -3, 4});
  checkIntOp("arith.muli", x, y, {14, -14, -14, 14, mx, mn, 0, 5});
  checkIntOp("arith.divsi", x, y, {3, -3, -3, 3, mx, mn, 0, 5});
  checkIntOp("arith.remsi", x, y, {1, -1, 1, -1, 0, 0, 0, 0});
  checkIntOp("arith.ceildivsi", x, y, {4, -3, -3, 4, mx, mn, 0, 5});
  checkIntOp("arith.floordivsi", x, y, {3, -4, -4, 3, mx, mn, 0, 5});
  checkIntOp("arith.minsi", x, y, {2, -7, -2, -7, 1, mn, 0, 1});
  checkIntOp("arith.maxui", x, y, {7, -7, -2, -2, mx, mn == -1 ? 0 : -1, 3, 5});
  checkIntOp("arith.divui", x, y, {3, int32_t(uint32_t(-7) / 2u), 0, 0, mx, 0, 0, 5});
  checkIntOp("arith.andi", x, y, {2, 0, 6, -8, 1, mn, 0, 1});
  checkIntOp("arith.xori", x, y, {5, -5, -7, 7, mx - 1, mx, 3, 4});
  checkIntOp("arith.shli", x, y, {28, -28, 0, 0, -2, 0, 0, 10});
  checkIntOp("arith.shrsi", x, y, {1, -2, 0, -1, mx / 2, -1, 0, 2});
  checkIntOp("arith.shrui", x, y, {1, int32_t(uint32_t(-7) >> 2), 0, 0, mx / 2, 0, 0, 2});
  std::vector<int32_t> out(8);
  runText(subst(kIntBinary, "OPERATION", "math.absi %a : tensor<8xi32>"), {}, {buf(x), buf(y), buf(out)});
  CHECK(out == std::vector<int32_t>{7, 7, 7, 7, mx, mn, 0, 5});  // |INT_MIN| wraps
}

TEST_CASE("integer division by zero is an error naming the op and program", "[elementwise][int][errors]") {
  std::vector<int32_t> x(8, 1), y(8, 1), out(8);
  y[3] = 0;
  auto p = compileText(subst(kIntBinary, "OPERATION", "arith.divsi %a, %b : tensor<8xi32>"));
  try {
    run(*p, {2, 1, 1}, {buf(x), buf(y), buf(out)});
    FAIL("no error");
  } catch (const InterpError& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("arith.divsi") && Catch::Contains("division by zero") && Catch::Contains("program ("));
  }
}

TEST_CASE("cmpf (all predicates) and cmpi, select on tiles", "[elementwise][compare]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %y: !tile.ptr<f32>, %o: !tile.ptr<i32>, %s: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 16 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<16xf32>
  %b = tile.load_block %y shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<16xf32>
  %m = arith.cmpf PRED, %a, %b : tensor<16xf32>
  %mi = arith.extui %m : tensor<16xi1> to tensor<16xi32>
  tile.store_block %mi, %o shape [%n] strides [%c1] offsets [%c0] : tensor<16xi32>, !tile.ptr<i32>
  %sel = arith.select %m, %a, %b : tensor<16xi1>, tensor<16xf32>
  tile.store_block %sel, %s shape [%n] strides [%c1] offsets [%c0] : tensor<16xf32>, !tile.ptr<f32>
  return
}
)";
  const std::vector<std::pair<std::string, std::function<bool(float, float)>>> preds = {
      {"false", [](float, float) { return false; }},
      {"oeq", [](float a, float b) { return a == b; }},
      {"ogt", [](float a, float b) { return a > b; }},
      {"oge", [](float a, float b) { return a >= b; }},
      {"olt", [](float a, float b) { return a < b; }},
      {"ole", [](float a, float b) { return a <= b; }},
      {"one", [](float a, float b) { return a < b || a > b; }},
      {"ord", [](float a, float b) { return a == a && b == b; }},
      {"ueq", [](float a, float b) { return !(a < b || a > b); }},
      {"ugt", [](float a, float b) { return !(a <= b); }},
      {"uge", [](float a, float b) { return !(a < b); }},
      {"ult", [](float a, float b) { return !(a >= b); }},
      {"ule", [](float a, float b) { return !(a > b); }},
      {"une", [](float a, float b) { return a != b; }},
      {"uno", [](float a, float b) { return a != a || b != b; }},
      {"true", [](float, float) { return true; }},
  };
  auto x = xs(), y = ys();
  for (auto& [pred, want] : preds) {
    INFO(pred);
    std::vector<int32_t> o(16, 7);
    std::vector<float> s(16);
    runText(subst(text, "PRED", pred), {}, {buf(x), buf(y), buf(o), buf(s)});
    for (int k = 0; k < 16; ++k) {
      INFO("k=" << k);
      CHECK(o[k] == int(want(x[k], y[k])));
      CHECK(sameBits(s[k], want(x[k], y[k]) ? x[k] : y[k]));
    }
  }
}

TEST_CASE("cmpi predicates on tiles and scalars", "[elementwise][compare]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<i32>, %y: !tile.ptr<i32>, %o: !tile.ptr<i32>, %u: i32, %v: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %n = arith.constant 4 : i32
  %n5 = arith.constant 5 : i32
  %a = tile.load_block %x shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<i32> -> tensor<4xi32>
  %b = tile.load_block %y shape [%n] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<i32> -> tensor<4xi32>
  %m = arith.cmpi PRED, %a, %b : tensor<4xi32>
  %mi = arith.extui %m : tensor<4xi1> to tensor<4xi32>
  tile.store_block %mi, %o shape [%n5] strides [%c1] offsets [%c0] : tensor<4xi32>, !tile.ptr<i32>
  %sm = arith.cmpi PRED, %u, %v : i32
  %si = arith.extui %sm : i1 to i32
  %st = tile.splat %si : i32 -> tensor<1xi32>
  tile.store_block %st, %o shape [%n5] strides [%c1] offsets [%n] : tensor<1xi32>, !tile.ptr<i32>
  return
}
)";
  const std::vector<std::pair<std::string, std::function<bool(int32_t, int32_t)>>> preds = {
      {"eq", [](int32_t a, int32_t b) { return a == b; }},
      {"ne", [](int32_t a, int32_t b) { return a != b; }},
      {"slt", [](int32_t a, int32_t b) { return a < b; }},
      {"sle", [](int32_t a, int32_t b) { return a <= b; }},
      {"sgt", [](int32_t a, int32_t b) { return a > b; }},
      {"sge", [](int32_t a, int32_t b) { return a >= b; }},
      {"ult", [](int32_t a, int32_t b) { return uint32_t(a) < uint32_t(b); }},
      {"ule", [](int32_t a, int32_t b) { return uint32_t(a) <= uint32_t(b); }},
      {"ugt", [](int32_t a, int32_t b) { return uint32_t(a) > uint32_t(b); }},
      {"uge", [](int32_t a, int32_t b) { return uint32_t(a) >= uint32_t(b); }},
  };
  std::vector<int32_t> x = {-1, 3, 5, 2}, y = {1, 3, -5, 4};
  for (auto& [pred, want] : preds) {
    INFO(pred);
    std::vector<int32_t> o(5, 7);
    runText(subst(text, "PRED", pred), {}, {buf(x), buf(y), buf(o), Arg::i32(-2), Arg::i32(1)});
    for (int k = 0; k < 4; ++k) CHECK(o[k] == int(want(x[k], y[k])));
    CHECK(o[4] == int(want(-2, 1)));
  }
}

TEST_CASE("bf16 scalar parameters are rounded on entry; i64 and index scalars", "[elementwise][args]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>, %h: bf16, %big: i64, %ix: index) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c3 = arith.constant 3 : i32
  %hf = arith.extf %h : bf16 to f32
  %a = arith.index_cast %ix : index to i64
  %s = arith.addi %big, %a : i64
  %sf = arith.sitofp %s : i64 to f32
  %t = tile.splat %hf : f32 -> tensor<1xf32>
  %u = tile.splat %sf : f32 -> tensor<1xf32>
  tile.store_block %t, %o shape [%c3] strides [%c1] offsets [%c0] : tensor<1xf32>, !tile.ptr<f32>
  tile.store_block %u, %o shape [%c3] strides [%c1] offsets [%c1] : tensor<1xf32>, !tile.ptr<f32>
  return
}
)";
  std::vector<float> o(3, 0.0f);
  runText(text, {}, {buf(o), Arg::f32(1.0f + std::ldexp(1.0f, -8)), Arg::i64(int64_t(1) << 40), Arg::i64(-5)});
  CHECK(o[0] == 1.0f);  // the tie rounds to even
  CHECK(o[1] == float((int64_t(1) << 40) - 5));
}
