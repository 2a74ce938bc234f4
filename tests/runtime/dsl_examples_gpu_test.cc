// On the GPU: the DSL's example kernels (vector_add, softmax f32/bf16, GEMM bf16 -> f32), built
// ahead of time by the tile_kernel rule, against CPU references in fp64. Outputs are poisoned
// before each launch; inputs are fresh random values (the seed is printed; TILE_SEED repeats it).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"
#include "tests/backend/dsl_example_kernels.h"
#include "tests/backend/dsl_gemm_instances.h"

namespace rt = tile::rt;
namespace k = tile::kernels;

namespace {

constexpr uint32_t kPoison32 = 0x7fc0dead;  // quiet NaN
constexpr uint16_t kPoison16 = 0x7fc1;      // bf16 quiet NaN

uint64_t seed() {
  static const uint64_t s = [] {
    const char* env = std::getenv("TILE_SEED");
    const uint64_t value = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    std::cout << "seed " << value << " (TILE_SEED=" << value << " repeats this run)\n";
    return value;
  }();
  return s;
}

unsigned cdiv(int64_t a, int64_t b) { return static_cast<unsigned>((a + b - 1) / b); }

bool poisoned(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  return bits == kPoison32;
}

// Runs fn(row) for rows [0, n) on all cores.
template <typename Fn>
void parallel_rows(int n, Fn fn) {
  const int threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([=] {
      for (int r = t; r < n; r += threads) fn(r);
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace

TEST_CASE("DSL vector_add (f32, BLOCK=1024)") {
  std::mt19937_64 rng(seed());
  std::uniform_real_distribution<float> dist(-8, 8);
  const int32_t n = 3000017, slack = 2048;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = dist(rng), y[i] = dist(rng);
  rt::DeviceBuffer dx(n * 4), dy(n * 4), dout((n + slack) * 4);
  dx.upload(x);
  dy.upload(y);
  dout.fill_words(kPoison32);
  rt::Stream stream;
  k::launch_vector_add_f32(stream, rt::Dim3(cdiv(n, 1024)), dx.as<float>(), dy.as<float>(),
                           dout.as<float>(), n);
  stream.synchronize();
  const std::vector<float> out = dout.download<float>();
  size_t wrong = 0, unwritten = 0, overrun = 0;
  for (int i = 0; i < n; ++i) {
    if (poisoned(out[i])) ++unwritten;
    else if (out[i] != x[i] + y[i]) ++wrong;
  }
  for (int i = n; i < n + slack; ++i) overrun += !poisoned(out[i]);
  std::cout << "vector_add n=" << n << ": wrong " << wrong << ", unwritten " << unwritten
            << ", written past n " << overrun << "\n";
  CHECK(wrong == 0);
  CHECK(unwritten == 0);
  CHECK(overrun == 0);
}

TEST_CASE("DSL softmax f32 (BLOCK_M=4, BLOCK_N=256), strided rows") {
  std::mt19937_64 rng(seed() + 1);
  std::normal_distribution<float> dist(0, 3);
  const int rows = 1001, cols = 203, stride = 211;
  std::vector<float> x(size_t(rows) * stride);
  for (float& v : x) v = dist(rng);
  rt::DeviceBuffer dx(x.size() * 4), dout(x.size() * 4);
  dx.upload(x);
  dout.fill_words(kPoison32);
  rt::Stream stream;
  k::launch_softmax_f32(stream, rt::Dim3(cdiv(rows, 4)), dx.as<float>(), dout.as<float>(), rows,
                        cols, stride);
  stream.synchronize();
  const std::vector<float> out = dout.download<float>();
  double max_err = 0;
  size_t unwritten = 0, overrun = 0, bad = 0;
  for (int r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0;
    for (int c = 0; c < cols; ++c) m = std::max(m, double(x[r * stride + c]));
    for (int c = 0; c < cols; ++c) s += std::exp(double(x[r * stride + c]) - m);
    for (int c = 0; c < cols; ++c) {
      const float got = out[r * stride + c];
      if (poisoned(got)) { ++unwritten; continue; }
      const double ref = std::exp(double(x[r * stride + c]) - m) / s;
      max_err = std::max(max_err, std::abs(got - ref));
      // exp2 of an f32 argument: relative error grows with |x - max|; 1e-5 covers |x - max| < 100.
      bad += std::abs(got - ref) > 1e-5 * ref + 1e-9;
    }
    for (int c = cols; c < stride; ++c) overrun += !poisoned(out[r * stride + c]);
  }
  std::cout << "softmax f32 " << rows << "x" << cols << ": max abs err " << max_err << "\n";
  CHECK(unwritten == 0);
  CHECK(overrun == 0);
  CHECK(bad == 0);
}

TEST_CASE("DSL softmax bf16 (BLOCK_M=1, BLOCK_N=1024)") {
  std::mt19937_64 rng(seed() + 2);
  std::normal_distribution<float> dist(0, 3);
  const int rows = 777, cols = 1000;
  std::vector<uint16_t> x(size_t(rows) * cols);
  for (uint16_t& v : x) v = tile::f32_to_bf16_bits(dist(rng));
  rt::DeviceBuffer dx(x.size() * 2), dout(x.size() * 2);
  dx.upload(x);
  std::vector<uint16_t> poison(x.size(), kPoison16);
  dout.upload(poison);
  rt::Stream stream;
  k::launch_softmax_bf16(stream, rt::Dim3(rows), dx.as<uint16_t>(), dout.as<uint16_t>(), rows,
                         cols, cols);
  stream.synchronize();
  const std::vector<uint16_t> out = dout.download<uint16_t>();
  size_t unwritten = 0, bad = 0;
  double max_err = 0;
  for (int r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0;
    for (int c = 0; c < cols; ++c) m = std::max(m, double(tile::bf16_bits_to_f32(x[r * cols + c])));
    for (int c = 0; c < cols; ++c) s += std::exp(double(tile::bf16_bits_to_f32(x[r * cols + c])) - m);
    for (int c = 0; c < cols; ++c) {
      if (out[r * cols + c] == kPoison16) { ++unwritten; continue; }
      const double ref = std::exp(double(tile::bf16_bits_to_f32(x[r * cols + c])) - m) / s;
      const double err = std::abs(tile::bf16_bits_to_f32(out[r * cols + c]) - ref);
      max_err = std::max(max_err, err);
      bad += err > 2 * std::ldexp(std::abs(ref), -8) + 1e-7;  // 2 bf16 ulps of the result
    }
  }
  std::cout << "softmax bf16 " << rows << "x" << cols << ": max abs err " << max_err << "\n";
  CHECK(unwritten == 0);
  CHECK(bad == 0);
}

TEST_CASE("DSL gemm bf16 -> f32 (128x128x64, 8 warps; 128x256x64 with a producer warpgroup), ragged edges") {
  std::mt19937_64 rng(seed() + 3);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (const k::DslGemmInstance& g : k::kDslGemmInstances)
  for (auto [M, N, K] : {std::array<int, 3>{1000, 1200, 520}, std::array<int, 3>{256, 128, 64}}) {
    std::vector<uint16_t> a(size_t(M) * K), b(size_t(K) * N);
    for (uint16_t& v : a) v = tile::f32_to_bf16_bits(dist(rng));
    for (uint16_t& v : b) v = tile::f32_to_bf16_bits(dist(rng));
    rt::DeviceBuffer da(a.size() * 2), db(b.size() * 2), dc(size_t(M) * N * 4);
    da.upload(a);
    db.upload(b);
    dc.fill_words(kPoison32);
    rt::Stream stream;
    g.launch(stream, rt::Dim3(cdiv(M, g.block_m) * cdiv(N, g.block_n)), da.as<uint16_t>(), db.as<uint16_t>(), dc.as<float>(),
             M, N, K, K, N, N);
    stream.synchronize();
    const std::vector<float> c = dc.download<float>();
    std::vector<float> af(a.size()), bf(b.size());
    for (size_t i = 0; i < a.size(); ++i) af[i] = tile::bf16_bits_to_f32(a[i]);
    for (size_t i = 0; i < b.size(); ++i) bf[i] = tile::bf16_bits_to_f32(b[i]);
    std::vector<size_t> bad(M, 0), unwritten(M, 0);
    std::vector<double> worst(M, 0);
    parallel_rows(M, [&](int i) {
      std::vector<double> ref(N, 0), mag(N, 0);
      for (int kk = 0; kk < K; ++kk) {
        const double aik = af[size_t(i) * K + kk];
        const float* brow = &bf[size_t(kk) * N];
        for (int j = 0; j < N; ++j) {
          ref[j] += aik * brow[j];
          mag[j] += std::abs(aik * brow[j]);
        }
      }
      for (int j = 0; j < N; ++j) {
        const float got = c[size_t(i) * N + j];
        if (poisoned(got)) { ++unwritten[i]; continue; }
        const double err = std::abs(got - ref[j]);
        worst[i] = std::max(worst[i], err);
        // Twice the worst-case bound of a K-term f32 sum: layout or indexing bugs give O(1).
        bad[i] += err > 2.0 * K * std::ldexp(1.0, -24) * mag[j] + 1e-6;
      }
    });
    size_t total_bad = 0, total_unwritten = 0;
    double max_err = 0;
    for (int i = 0; i < M; ++i) {
      total_bad += bad[i];
      total_unwritten += unwritten[i];
      max_err = std::max(max_err, worst[i]);
    }
    std::cout << g.name << " " << M << "x" << N << "x" << K << ": max abs err " << max_err
              << ", out of tolerance " << total_bad << ", unwritten " << total_unwritten << "\n";
    CHECK(total_unwritten == 0);
    CHECK(total_bad == 0);
  }
}
