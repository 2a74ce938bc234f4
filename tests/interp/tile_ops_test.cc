// Tile construction and shape ops, reductions, dot, and control flow (scf.for / scf.if).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>

#include "tests/interp/kernel_text.h"

using namespace tile;
using namespace tile::interp;
using namespace tile::interp::testing;

TEST_CASE("splat, expand_dims and broadcast build an outer sum", "[tile]") {
  const char* text = R"(
func.func @k(%r: !tile.ptr<f32>, %c: !tile.ptr<f32>, %o: !tile.ptr<f32>, %s: f32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c3 = arith.constant 3 : i32
  %c4 = arith.constant 4 : i32
  %row = tile.load_block %r shape [%c4] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<4xf32>
  %col = tile.load_block %c shape [%c3] strides [%c1] offsets [%c0] padding 0.0 : !tile.ptr<f32> -> tensor<3xf32>
  %r2 = tile.expand_dims %row, 0 : tensor<4xf32> -> tensor<1x4xf32>
  %c2 = tile.expand_dims %col, 1 : tensor<3xf32> -> tensor<3x1xf32>
  %rb = tile.broadcast %r2 : tensor<1x4xf32> -> tensor<3x4xf32>
  %cb = tile.broadcast %c2 : tensor<3x1xf32> -> tensor<3x4xf32>
  %sp = tile.splat %s : f32 -> tensor<3x4xf32>
  %sum = arith.addf %rb, %cb : tensor<3x4xf32>
  %all = arith.mulf %sum, %sp : tensor<3x4xf32>
  tile.store_block %all, %o shape [%c3, %c4] strides [%c4, %c1] offsets [%c0, %c0] : tensor<3x4xf32>, !tile.ptr<f32>
  return
}
)";
  std::vector<float> r = {1, 2, 3, 4}, c = {10, 20, 30}, o(12);
  runText(text, {}, {buf(r), buf(c), buf(o), Arg::f32(0.5f)});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) CHECK(o[i * 4 + j] == (r[j] + c[i]) * 0.5f);
}

TEST_CASE("broadcast of a middle dimension in 3-D", "[tile]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<i32>, %o: !tile.ptr<i32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c2 = arith.constant 2 : i32
  %c3 = arith.constant 3 : i32
  %c6 = arith.constant 6 : i32
  %a = tile.load_block %x shape [%c2, %c3] strides [%c3, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<i32> -> tensor<2x3xi32>
  %e = tile.expand_dims %a, 1 : tensor<2x3xi32> -> tensor<2x1x3xi32>
  %b = tile.broadcast %e : tensor<2x1x3xi32> -> tensor<2x2x3xi32>
  tile.store_block %b, %o shape [%c2, %c2, %c3] strides [%c6, %c3, %c1] offsets [%c0, %c0, %c0] : tensor<2x2x3xi32>, !tile.ptr<i32>
  return
}
)";
  std::vector<int32_t> x = {1, 2, 3, 4, 5, 6}, o(12);
  runText(text, {}, {buf(x), buf(o)});
  CHECK(o == std::vector<int32_t>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
}

TEST_CASE("arange, masks from compares, select with a scalar condition", "[tile]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<i32>, %n: i32, %flag: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c8 = arith.constant 8 : i32
  %r = tile.arange 3 to 11 : tensor<8xi32>
  %ns = tile.splat %n : i32 -> tensor<8xi32>
  %m = arith.cmpi slt, %r, %ns : tensor<8xi32>
  %neg = arith.constant dense<-1> : tensor<8xi32>
  %v = arith.select %m, %r, %neg : tensor<8xi1>, tensor<8xi32>
  %f = arith.cmpi ne, %flag, %c0 : i32
  %w = arith.select %f, %v, %neg : tensor<8xi32>
  tile.store_block %w, %o shape [%c8] strides [%c1] offsets [%c0] : tensor<8xi32>, !tile.ptr<i32>
  return
}
)";
  auto p = compileText(text);
  std::vector<int32_t> o(8);
  run(*p, {}, {buf(o), Arg::i32(7), Arg::i32(1)});
  CHECK(o == std::vector<int32_t>{3, 4, 5, 6, -1, -1, -1, -1});
  run(*p, {}, {buf(o), Arg::i32(7), Arg::i32(0)});
  CHECK(o == std::vector<int32_t>(8, -1));
}

TEST_CASE("trans transposes a 2-D tile", "[tile]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %r = arith.constant 37 : i32
  %c = arith.constant 45 : i32
  %a = tile.load_block %x shape [%r, %c] strides [%c, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<37x45xf32>
  %t = tile.trans %a : tensor<37x45xf32> -> tensor<45x37xf32>
  tile.store_block %t, %o shape [%c, %r] strides [%r, %c1] offsets [%c0, %c0] : tensor<45x37xf32>, !tile.ptr<f32>
  return
}
)";
  std::vector<float> x(37 * 45), o(37 * 45);
  for (size_t k = 0; k < x.size(); ++k) x[k] = float(k);
  runText(text, {}, {buf(x), buf(o)});
  for (int i = 0; i < 37; ++i)
    for (int j = 0; j < 45; ++j) REQUIRE(o[j * 37 + i] == x[i * 45 + j]);
}

namespace {

const char* kReduce = R"(
func.func @k(%x: !tile.ptr<f32>, %o0: !tile.ptr<f32>, %o1: !tile.ptr<f32>, %os: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c4 = arith.constant 4 : i32
  %c8 = arith.constant 8 : i32
  %a = tile.load_block %x shape [%c4, %c8] strides [%c8, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<4x8xf32>
  %r0 = tile.reduce "KIND" %a, 0 : tensor<4x8xf32> -> tensor<8xf32>
  %r1 = tile.reduce "KIND" %a, 1 : tensor<4x8xf32> -> tensor<4xf32>
  %s = tile.reduce "KIND" %r1, 0 : tensor<4xf32> -> f32
  %st = tile.splat %s : f32 -> tensor<1xf32>
  tile.store_block %r0, %o0 shape [%c8] strides [%c1] offsets [%c0] : tensor<8xf32>, !tile.ptr<f32>
  tile.store_block %r1, %o1 shape [%c4] strides [%c1] offsets [%c0] : tensor<4xf32>, !tile.ptr<f32>
  tile.store_block %st, %os shape [%c1] strides [%c1] offsets [%c0] : tensor<1xf32>, !tile.ptr<f32>
  return
}
)";

}  // namespace

TEST_CASE("reduce max/min/sum along each axis, and to a scalar", "[tile][reduce]") {
  std::vector<float> x(32);
  for (int k = 0; k < 32; ++k) x[k] = float((k * 37) % 23) * 0.25f - 2.0f;
  for (const std::string kind : {"max", "min", "sum"}) {
    INFO(kind);
    auto op = [&](float a, float b) { return kind == "max" ? std::max(a, b) : kind == "min" ? std::min(a, b) : a + b; };
    std::vector<float> o0(8), o1(4), os(1);
    runText(subst(kReduce, "KIND", kind), {}, {buf(x), buf(o0), buf(o1), buf(os)});
    for (int j = 0; j < 8; ++j) {
      float acc = x[j];
      for (int i = 1; i < 4; ++i) acc = op(acc, x[i * 8 + j]);
      CHECK(o0[j] == acc);
    }
    float total = 0;
    for (int i = 0; i < 4; ++i) {
      float acc = x[i * 8];
      for (int j = 1; j < 8; ++j) acc = op(acc, x[i * 8 + j]);
      CHECK(o1[i] == acc);
      total = i == 0 ? acc : op(total, acc);
    }
    CHECK(os[0] == total);
  }
}

TEST_CASE("reduce max and min propagate NaN", "[tile][reduce]") {
  std::vector<float> x(32, 1.0f);
  x[8 + 3] = std::numeric_limits<float>::quiet_NaN();
  for (const std::string kind : {"max", "min"}) {
    std::vector<float> o0(8), o1(4), os(1);
    runText(subst(kReduce, "KIND", kind), {}, {buf(x), buf(o0), buf(o1), buf(os)});
    CHECK(std::isnan(o0[3]));
    CHECK(o0[2] == 1.0f);
    CHECK(std::isnan(o1[1]));
    CHECK(o1[0] == 1.0f);
    CHECK(std::isnan(os[0]));
  }
}

namespace {

const char* kDot = R"(
func.func @k(%a: !tile.ptr<T>, %b: !tile.ptr<T>, %c: !tile.ptr<f32>, %o: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %m = arith.constant M : i32
  %n = arith.constant N : i32
  %k = arith.constant K : i32
  %ta = tile.load_block %a shape [%m, %k] strides [%k, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<T> -> tensor<MxKxT>
  %tb = tile.load_block %b shape [%k, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<T> -> tensor<KxNxT>
  %tc = tile.load_block %c shape [%m, %n] strides [%n, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<MxNxf32>
  %r = tile.dot %ta, %tb, %tc : tensor<MxKxT>, tensor<KxNxT> -> tensor<MxNxf32>
  tile.store_block %r, %o shape [%m, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<MxNxf32>, !tile.ptr<f32>
  return
}
)";

std::string dotText(const std::string& t, int M, int N, int K) {
  std::string s = subst(kDot, "MxKxT", std::to_string(M) + "x" + std::to_string(K) + "x" + t);
  s = subst(s, "KxNxT", std::to_string(K) + "x" + std::to_string(N) + "x" + t);
  s = subst(s, "MxNxf32", std::to_string(M) + "x" + std::to_string(N) + "xf32");
  s = subst(s, "<T>", "<" + t + ">");
  s = subst(s, "constant M ", "constant " + std::to_string(M) + " ");
  s = subst(s, "constant N ", "constant " + std::to_string(N) + " ");
  return subst(s, "constant K ", "constant " + std::to_string(K) + " ");
}

}  // namespace

TEST_CASE("dot on bf16/f16 equals an exact-product f32 accumulation in k order", "[dot]") {
  const int M = 24, N = 40, K = 72;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist;
  for (DType t : {DType::bf16, DType::f16}) {
    INFO(dtype_name(t));
    std::vector<float> a(M * K), b(K * N), c(M * N), o(M * N);
    for (auto& v : a) v = round_to(t, dist(rng));
    for (auto& v : b) v = round_to(t, dist(rng));
    for (auto& v : c) v = dist(rng);
    auto ab = toBits(t, a), bb = toBits(t, b);
    runText(dotText(dtype_name(t), M, N, K), {}, {buf16(ab, t), buf16(bb, t), buf(c), buf(o)});
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        float acc = c[i * N + j];
        for (int k = 0; k < K; ++k) acc += a[i * K + k] * b[k * N + j];
        REQUIRE(sameBits(o[i * N + j], acc));
      }
  }
}

TEST_CASE("dot accumulates in f32, not in the operand type", "[dot]") {
  // 1 + 2^-9 + 2^-9 is 1 + 2^-8 in f32; a bf16 accumulator would round back to 1 each time.
  std::vector<float> a = {1, 1, 1}, b = {1, std::ldexp(1.0f, -9), std::ldexp(1.0f, -9)}, c = {0}, o = {0};
  auto ab = toBits(DType::bf16, a), bb = toBits(DType::bf16, b);
  runText(dotText("bf16", 1, 1, 3), {}, {buf16(ab, DType::bf16), buf16(bb, DType::bf16), buf(c), buf(o)});
  CHECK(o[0] == 1.0f + std::ldexp(1.0f, -8));
}

TEST_CASE("dot on f32 operands uses exact products (fused multiply-add)", "[dot]") {
  const int M = 8, N = 16, K = 32;
  std::mt19937 rng(11);
  std::normal_distribution<float> dist;
  std::vector<float> a(M * K), b(K * N), c(M * N), o(M * N);
  for (auto& v : a) v = dist(rng);
  for (auto& v : b) v = dist(rng);
  for (auto& v : c) v = dist(rng);
  runText(dotText("f32", M, N, K), {}, {buf(a), buf(b), buf(c), buf(o)});
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = c[i * N + j];
      for (int k = 0; k < K; ++k) acc = std::fma(a[i * K + k], b[k * N + j], acc);
      REQUIRE(sameBits(o[i * N + j], acc));
    }
}

TEST_CASE("dot with a transposed operand: q @ trans(k)", "[dot]") {
  const char* text = R"(
func.func @k(%q: !tile.ptr<bf16>, %kk: !tile.ptr<bf16>, %o: !tile.ptr<f32>) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %m = arith.constant 16 : i32
  %n = arith.constant 32 : i32
  %d = arith.constant 64 : i32
  %tq = tile.load_block %q shape [%m, %d] strides [%d, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<16x64xbf16>
  %tk = tile.load_block %kk shape [%n, %d] strides [%d, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x64xbf16>
  %kt = tile.trans %tk : tensor<32x64xbf16> -> tensor<64x32xbf16>
  %z = arith.constant dense<0.0> : tensor<16x32xf32>
  %s = tile.dot %tq, %kt, %z : tensor<16x64xbf16>, tensor<64x32xbf16> -> tensor<16x32xf32>
  tile.store_block %s, %o shape [%m, %n] strides [%n, %c1] offsets [%c0, %c0] : tensor<16x32xf32>, !tile.ptr<f32>
  return
}
)";
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> q(16 * 64), k(32 * 64), o(16 * 32);
  for (auto& v : q) v = round_to(DType::bf16, dist(rng));
  for (auto& v : k) v = round_to(DType::bf16, dist(rng));
  auto qb = toBits(DType::bf16, q), kb = toBits(DType::bf16, k);
  runText(text, {}, {buf16(qb, DType::bf16), buf16(kb, DType::bf16), buf(o)});
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 32; ++j) {
      float acc = 0;
      for (int d = 0; d < 64; ++d) acc += q[i * 64 + d] * k[j * 64 + d];
      REQUIRE(sameBits(o[i * 32 + j], acc));
    }
}

TEST_CASE("scf.for carries tiles and scalars (i32 and index induction variables)", "[control]") {
  const char* text = R"(
func.func @k(%x: !tile.ptr<f32>, %o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c4 = arith.constant 4 : i32
  %c8 = arith.constant 8 : i32
  %z = arith.constant dense<0.0> : tensor<4xf32>
  %one = arith.constant 1.0 : f32
  %zs = arith.constant 0.0 : f32
  %acc, %cnt = scf.for %i = %c0 to %n step %c1 iter_args(%a = %z, %s = %zs) -> (tensor<4xf32>, f32) : i32 {
    %t = tile.load_block %x shape [%n, %c4] strides [%c4, %c1] offsets [%i, %c0] padding 0.0 : !tile.ptr<f32> -> tensor<1x4xf32>
    %e = tile.reduce "sum" %t, 0 : tensor<1x4xf32> -> tensor<4xf32>
    %a2 = arith.addf %a, %e : tensor<4xf32>
    %s2 = arith.addf %s, %one : f32
    scf.yield %a2, %s2 : tensor<4xf32>, f32
  } {tile.stages = 2 : i32}
  %i0 = arith.constant 0 : index
  %i3 = arith.constant 3 : index
  %i1 = arith.constant 1 : index
  %swapped:2 = scf.for %j = %i0 to %i3 step %i1 iter_args(%p = %acc, %q = %z) -> (tensor<4xf32>, tensor<4xf32>) {
    scf.yield %q, %p : tensor<4xf32>, tensor<4xf32>
  }
  %cs = tile.splat %cnt : f32 -> tensor<4xf32>
  tile.store_block %swapped#1, %o shape [%c8] strides [%c1] offsets [%c0] : tensor<4xf32>, !tile.ptr<f32>
  tile.store_block %cs, %o shape [%c8] strides [%c1] offsets [%c4] : tensor<4xf32>, !tile.ptr<f32>
  return
}
)";
  auto p = compileText(text);
  std::vector<float> x(20);
  for (int k = 0; k < 20; ++k) x[k] = float(k);
  std::vector<float> o(8);
  run(*p, {}, {buf(x), buf(o), Arg::i32(5)});
  // Three swaps leave the accumulator in the second slot.
  CHECK(o == std::vector<float>{40, 45, 50, 55, 5, 5, 5, 5});
  run(*p, {}, {buf(x), buf(o), Arg::i32(0)});  // no iterations: the init values come out
  CHECK(o == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("scf.if with scalar and tile results", "[control]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<f32>) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c2 = arith.constant 2 : i32
  %c4 = arith.constant 4 : i32
  %even0 = arith.remsi %pid, %c2 : i32
  %even = arith.cmpi eq, %even0, %c0 : i32
  %v, %t = scf.if %even -> (f32, tensor<2xf32>) {
    %a = arith.constant 1.5 : f32
    %ta = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
    scf.yield %a, %ta : f32, tensor<2xf32>
  } else {
    %b = arith.constant -3.0 : f32
    %tb = tile.splat %b : f32 -> tensor<2xf32>
    scf.yield %b, %tb : f32, tensor<2xf32>
  }
  %vs = tile.splat %v : f32 -> tensor<2xf32>
  %sum = arith.addf %vs, %t : tensor<2xf32>
  %n = arith.muli %c4, %c2 : i32
  %off = arith.muli %pid, %c2 : i32
  tile.store_block %sum, %o shape [%n] strides [%c1] offsets [%off] : tensor<2xf32>, !tile.ptr<f32>
  return
}
)";
  std::vector<float> o(8);
  runText(text, {4, 1, 1}, {buf(o)});
  CHECK(o == std::vector<float>{2.5f, 3.5f, -6, -6, 2.5f, 3.5f, -6, -6});
}

TEST_CASE("program_id and num_programs on a 3-D grid", "[grid]") {
  const char* text = R"(
func.func @k(%o: !tile.ptr<i32>) attributes {tile.kernel} {
  %x = tile.program_id 0 : i32
  %y = tile.program_id 1 : i32
  %z = tile.program_id 2 : i32
  %nx = tile.num_programs 0 : i32
  %ny = tile.num_programs 1 : i32
  %nz = tile.num_programs 2 : i32
  %a = arith.muli %z, %ny : i32
  %b = arith.addi %a, %y : i32
  %c = arith.muli %b, %nx : i32
  %lin = arith.addi %c, %x : i32
  %total0 = arith.muli %nx, %ny : i32
  %total = arith.muli %total0, %nz : i32
  %one = arith.constant 1 : i32
  %offs = tile.splat %lin : i32 -> tensor<1xi32>
  %v = arith.addi %offs, %offs : tensor<1xi32>
  tile.store %v, %o[%offs] : tensor<1xi32>, !tile.ptr<i32>, tensor<1xi32>
  return
}
)";
  std::vector<int32_t> o(3 * 4 * 5, -1);
  runText(text, {3, 4, 5}, {buf(o)}, {123, 4, true});
  for (int k = 0; k < 60; ++k) CHECK(o[k] == 2 * k);
}
