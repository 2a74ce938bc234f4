// Small whole programs written in MLIR text (vector add, row softmax, tiled GEMM, an
// attention-like loop) against plain C++, plus timings of the hot paths.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "tests/interp/kernel_text.h"

using namespace tile;
using namespace tile::interp;
using namespace tile::interp::testing;

namespace {

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("vector add over a grid with a masked tail", "[programs]") {
  const char* text = R"(
func.func @vadd(%x: !tile.ptr<f32>, %y: !tile.ptr<f32>, %o: !tile.ptr<f32>, %n: i32) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %c128 = arith.constant 128 : i32
  %start = arith.muli %pid, %c128 : i32
  %r = tile.arange 0 to 128 : tensor<128xi32>
  %s = tile.splat %start : i32 -> tensor<128xi32>
  %idx = arith.addi %r, %s : tensor<128xi32>
  %ns = tile.splat %n : i32 -> tensor<128xi32>
  %m = arith.cmpi slt, %idx, %ns : tensor<128xi32>
  %a = tile.load %x[%idx] mask %m : !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1> -> tensor<128xf32>
  %b = tile.load %y[%idx] mask %m : !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1> -> tensor<128xf32>
  %c = arith.addf %a, %b : tensor<128xf32>
  tile.store %c, %o[%idx] mask %m : tensor<128xf32>, !tile.ptr<f32>, tensor<128xi32>, tensor<128xi1>
  return
}
)";
  const int n = 1000;
  std::vector<float> x(n), y(n), o(n, -1.0f);
  for (int k = 0; k < n; ++k) {
    x[k] = 0.1f * k;
    y[k] = std::cos(float(k));
  }
  runText(text, {(n + 127) / 128, 1, 1}, {buf(x), buf(y), buf(o), Arg::i32(n)}, {1, 2, true});
  for (int k = 0; k < n; ++k) REQUIRE(o[k] == x[k] + y[k]);
}

TEST_CASE("row softmax (bf16 in, f32 out) matches C++ in float", "[programs]") {
  const char* text = R"(
func.func @softmax(%x: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %rows: i32, %cols: i32) attributes {tile.kernel} {
  %pid = tile.program_id 0 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c4 = arith.constant 4 : i32
  %row0 = arith.muli %pid, %c4 : i32
  %a = tile.load_block %x shape [%rows, %cols] strides [%cols, %c1] offsets [%row0, %c0] padding 0xFFF0000000000000 : !tile.ptr<bf16> -> tensor<4x64xbf16>
  %f = arith.extf %a : tensor<4x64xbf16> to tensor<4x64xf32>
  %mx = tile.reduce "max" %f, 1 : tensor<4x64xf32> -> tensor<4xf32>
  %mx2 = tile.expand_dims %mx, 1 : tensor<4xf32> -> tensor<4x1xf32>
  %mxb = tile.broadcast %mx2 : tensor<4x1xf32> -> tensor<4x64xf32>
  %d = arith.subf %f, %mxb : tensor<4x64xf32>
  %log2e = arith.constant dense<1.44269504> : tensor<4x64xf32>
  %d2 = arith.mulf %d, %log2e : tensor<4x64xf32>
  %e = math.exp2 %d2 : tensor<4x64xf32>
  %s = tile.reduce "sum" %e, 1 : tensor<4x64xf32> -> tensor<4xf32>
  %s2 = tile.expand_dims %s, 1 : tensor<4xf32> -> tensor<4x1xf32>
  %sb = tile.broadcast %s2 : tensor<4x1xf32> -> tensor<4x64xf32>
  %p = arith.divf %e, %sb : tensor<4x64xf32>
  tile.store_block %p, %o shape [%rows, %cols] strides [%cols, %c1] offsets [%row0, %c0] : tensor<4x64xf32>, !tile.ptr<f32>
  return
}
)";
  const int rows = 10, cols = 50;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0, 3);
  std::vector<float> x(rows * cols), o(rows * cols, -1.0f);
  for (auto& v : x) v = round_to(DType::bf16, dist(rng));
  auto xb = toBits(DType::bf16, x);
  runText(text, {(rows + 3) / 4, 1, 1}, {buf16(xb, DType::bf16), buf(o), Arg::i32(rows), Arg::i32(cols)});
  const float log2e = 1.44269504f;
  for (int i = 0; i < rows; ++i) {
    float m = -INFINITY;
    for (int j = 0; j < cols; ++j) m = std::max(m, x[i * cols + j]);
    std::vector<float> e(64, 0.0f);  // padded columns: exp2(-inf) = 0
    for (int j = 0; j < cols; ++j) e[j] = std::exp2((x[i * cols + j] - m) * log2e);
    float s = e[0];
    for (int j = 1; j < 64; ++j) s += e[j];
    for (int j = 0; j < cols; ++j) REQUIRE(sameBits(o[i * cols + j], e[j] / s));
  }
}

namespace {

// C[M,N] = A[M,K] @ B[K,N], bf16 operands, f32 result; 32x32 tiles, K in steps of 32.
const char* kGemm = R"(
func.func @gemm(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %c: !tile.ptr<f32>, %M: i32, %N: i32, %K: i32) attributes {tile.kernel} {
  %pm = tile.program_id 0 : i32
  %pn = tile.program_id 1 : i32
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c32 = arith.constant 32 : i32
  %m0 = arith.muli %pm, %c32 : i32
  %n0 = arith.muli %pn, %c32 : i32
  %z = arith.constant dense<0.0> : tensor<32x32xf32>
  %acc = scf.for %k0 = %c0 to %K step %c32 iter_args(%acc0 = %z) -> (tensor<32x32xf32>) : i32 {
    %ta = tile.load_block %a shape [%M, %K] strides [%K, %c1] offsets [%m0, %k0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x32xbf16>
    %tb = tile.load_block %b shape [%K, %N] strides [%N, %c1] offsets [%k0, %n0] padding 0.0 : !tile.ptr<bf16> -> tensor<32x32xbf16>
    %next = tile.dot %ta, %tb, %acc0 : tensor<32x32xbf16>, tensor<32x32xbf16> -> tensor<32x32xf32>
    scf.yield %next : tensor<32x32xf32>
  } {tile.stages = 3 : i32}
  tile.store_block %acc, %c shape [%M, %N] strides [%N, %c1] offsets [%m0, %n0] : tensor<32x32xf32>, !tile.ptr<f32>
  return
}
)";

}  // namespace

TEST_CASE("tiled GEMM with ragged edges matches a C++ loop bit for bit", "[programs]") {
  const int M = 70, N = 45, K = 100;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> a(M * K), b(K * N), c(M * N, NAN);
  for (auto& v : a) v = round_to(DType::bf16, dist(rng));
  for (auto& v : b) v = round_to(DType::bf16, dist(rng));
  auto ab = toBits(DType::bf16, a), bb = toBits(DType::bf16, b);
  auto p = compileText(kGemm);
  run(*p, {(M + 31) / 32, (N + 31) / 32, 1},
      {buf16(ab, DType::bf16), buf16(bb, DType::bf16), buf(c), Arg::i32(M), Arg::i32(N), Arg::i32(K)}, {3, 2, true});
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = 0;
      for (int k = 0; k < K; ++k) acc += a[i * K + k] * b[k * N + j];  // padded k add exact zeros
      REQUIRE(sameBits(c[i * N + j], acc));
    }
}

namespace {

// One program's flash-attention-like forward loop: S = Q K^T, online softmax, O += P V.
const char* kAttention = R"(
func.func @attn(%q: !tile.ptr<bf16>, %k: !tile.ptr<bf16>, %v: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %S: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %c128 = arith.constant 128 : i32
  %D = arith.constant 128 : i32
  %pid = tile.program_id 0 : i32
  %m0 = arith.muli %pid, %c128 : i32
  %tq = tile.load_block %q shape [%S, %D] strides [%D, %c1] offsets [%m0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
  %zacc = arith.constant dense<0.0> : tensor<128x128xf32>
  %zs = arith.constant dense<0.0> : tensor<128x128xf32>
  %minf = arith.constant dense<0xFF800000> : tensor<128xf32>
  %zl = arith.constant dense<0.0> : tensor<128xf32>
  %scale = arith.constant dense<0.127> : tensor<128x128xf32>
  %ninf2 = arith.constant dense<0xFF800000> : tensor<128x128xf32>
  %acc, %mrow, %lrow = scf.for %n0 = %c0 to %S step %c128 iter_args(%a = %zacc, %m = %minf, %l = %zl) -> (tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>) : i32 {
    %tk = tile.load_block %k shape [%S, %D] strides [%D, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
    %tv = tile.load_block %v shape [%S, %D] strides [%D, %c1] offsets [%n0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128x128xbf16>
    %kt = tile.trans %tk : tensor<128x128xbf16> -> tensor<128x128xbf16>
    %s0 = tile.dot %tq, %kt, %zs : tensor<128x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xf32>
    %s1 = arith.mulf %s0, %scale : tensor<128x128xf32>
    %cols = tile.arange 0 to 128 : tensor<128xi32>
    %n0s = tile.splat %n0 : i32 -> tensor<128xi32>
    %colidx = arith.addi %cols, %n0s : tensor<128xi32>
    %Ss = tile.splat %S : i32 -> tensor<128xi32>
    %valid = arith.cmpi slt, %colidx, %Ss : tensor<128xi32>
    %valid2 = tile.expand_dims %valid, 0 : tensor<128xi1> -> tensor<1x128xi1>
    %validb = tile.broadcast %valid2 : tensor<1x128xi1> -> tensor<128x128xi1>
    %s = arith.select %validb, %s1, %ninf2 : tensor<128x128xi1>, tensor<128x128xf32>
    %rowmax = tile.reduce "max" %s, 1 : tensor<128x128xf32> -> tensor<128xf32>
    %mnew = arith.maximumf %m, %rowmax : tensor<128xf32>
    %mnew2 = tile.expand_dims %mnew, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %mnewb = tile.broadcast %mnew2 : tensor<128x1xf32> -> tensor<128x128xf32>
    %sd = arith.subf %s, %mnewb : tensor<128x128xf32>
    %p = math.exp2 %sd : tensor<128x128xf32>
    %alpha0 = arith.subf %m, %mnew : tensor<128xf32>
    %alpha = math.exp2 %alpha0 : tensor<128xf32>
    %psum = tile.reduce "sum" %p, 1 : tensor<128x128xf32> -> tensor<128xf32>
    %la = arith.mulf %l, %alpha : tensor<128xf32>
    %lnew = arith.addf %la, %psum : tensor<128xf32>
    %alpha2 = tile.expand_dims %alpha, 1 : tensor<128xf32> -> tensor<128x1xf32>
    %alphab = tile.broadcast %alpha2 : tensor<128x1xf32> -> tensor<128x128xf32>
    %ascaled = arith.mulf %a, %alphab : tensor<128x128xf32>
    %pb = arith.truncf %p : tensor<128x128xf32> to tensor<128x128xbf16>
    %anew = tile.dot %pb, %tv, %ascaled : tensor<128x128xbf16>, tensor<128x128xbf16> -> tensor<128x128xf32>
    scf.yield %anew, %mnew, %lnew : tensor<128x128xf32>, tensor<128xf32>, tensor<128xf32>
  } {tile.stages = 2 : i32}
  %l2 = tile.expand_dims %lrow, 1 : tensor<128xf32> -> tensor<128x1xf32>
  %lb = tile.broadcast %l2 : tensor<128x1xf32> -> tensor<128x128xf32>
  %out = arith.divf %acc, %lb : tensor<128x128xf32>
  tile.store_block %out, %o shape [%S, %D] strides [%D, %c1] offsets [%m0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  return
}
)";

}  // namespace

TEST_CASE("attention-like loop: close to a double-precision softmax(QK^T)V, and its timing", "[programs][perf]") {
  const int S = 257, D = 128;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> q(S * D), k(S * D), v(S * D), o(S * D, NAN);
  for (auto* t : {&q, &k, &v})
    for (auto& x : *t) x = round_to(DType::bf16, dist(rng));
  auto qb = toBits(DType::bf16, q), kb = toBits(DType::bf16, k), vb = toBits(DType::bf16, v);
  auto p = compileText(kAttention);
  const int programs = (S + 127) / 128;
  auto t0 = std::chrono::steady_clock::now();
  run(*p, {programs, 1, 1},
      {buf16(qb, DType::bf16), buf16(kb, DType::bf16), buf16(vb, DType::bf16), buf(o), Arg::i32(S)}, {0, 1, true});
  const double ms = msSince(t0);
  std::printf("attention-like fwd, S=%d D=%d, %d programs x %d key blocks, 1 thread: %.1f ms\n", S, D, programs,
              programs, ms);
  // The kernel's scale is in the log2 domain; softmax with natural exp at scale*ln2.
  const double scale = 0.127 * std::log(2.0);
  double maxErr = 0;
  for (int i = 0; i < S; ++i) {
    std::vector<double> s(S);
    double m = -INFINITY, sum = 0;
    for (int j = 0; j < S; ++j) {
      double d = 0;
      for (int c = 0; c < D; ++c) d += double(q[i * D + c]) * k[j * D + c];
      s[j] = d * scale;
      m = std::max(m, s[j]);
    }
    for (int j = 0; j < S; ++j) sum += (s[j] = std::exp(s[j] - m));
    for (int c = 0; c < D; c += 7) {
      double ref = 0;
      for (int j = 0; j < S; ++j) ref += s[j] * v[j * D + c];
      maxErr = std::max(maxErr, std::fabs(ref / sum - o[i * D + c]));
    }
  }
  std::printf("attention-like fwd max |err| vs fp64: %.3g\n", maxErr);
  CHECK(maxErr < 2e-2);  // P is rounded to bf16 before the PV product
  CHECK(ms < 5000);
}

TEST_CASE("timing: dot 128x64 @ 64x128 and 128x128 @ 128x128", "[perf]") {
  for (int K : {64, 128}) {
    const char* text = R"(
func.func @k(%a: !tile.ptr<bf16>, %b: !tile.ptr<bf16>, %o: !tile.ptr<f32>, %reps: i32) attributes {tile.kernel} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %m = arith.constant 128 : i32
  %k = arith.constant KK : i32
  %ta = tile.load_block %a shape [%m, %k] strides [%k, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<128xKKxbf16>
  %tb = tile.load_block %b shape [%k, %m] strides [%m, %c1] offsets [%c0, %c0] padding 0.0 : !tile.ptr<bf16> -> tensor<KKx128xbf16>
  %z = arith.constant dense<0.0> : tensor<128x128xf32>
  %r = scf.for %i = %c0 to %reps step %c1 iter_args(%acc = %z) -> (tensor<128x128xf32>) : i32 {
    %d = tile.dot %ta, %tb, %acc : tensor<128xKKxbf16>, tensor<KKx128xbf16> -> tensor<128x128xf32>
    scf.yield %d : tensor<128x128xf32>
  }
  tile.store_block %r, %o shape [%m, %m] strides [%m, %c1] offsets [%c0, %c0] : tensor<128x128xf32>, !tile.ptr<f32>
  return
}
)";
    std::vector<uint16_t> a(128 * K, f32_to_bf16_bits(1.0f)), b(128 * K, f32_to_bf16_bits(0.5f));
    std::vector<float> o(128 * 128);
    auto p = compileText(subst(text, "KK", std::to_string(K)));
    const int reps = 50;
    auto t0 = std::chrono::steady_clock::now();
    run(*p, {}, {buf16(a, DType::bf16), buf16(b, DType::bf16), buf(o), Arg::i32(reps)});
    const double ms = msSince(t0) / reps;
    std::printf("dot 128x%d @ %dx128 (bf16 -> f32): %.3f ms\n", K, K, ms);
    CHECK(o[0] == 0.5f * K * reps);
    CHECK(ms < 20);  // generous for loaded CI machines; typically well under a millisecond
  }
}
