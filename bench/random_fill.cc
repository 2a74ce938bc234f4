#include "bench/random_fill.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "dsl/core/dtype.h"

namespace tile::bench {

namespace {

constexpr size_t kChunk = size_t(1) << 20;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void fill_chunk(uint16_t* dst, size_t n, ElemType type, uint64_t seed, size_t chunk) {
  uint64_t state = seed * 0x2545F4914F6CDD1Dull + chunk;
  for (size_t i = 0; i < n; ++i) {
    // 24 random bits -> uniform in [-1, 1).
    float x = float(splitmix64(state) >> 40) * (2.0f / 16777216.0f) - 1.0f;
    dst[i] = type == ElemType::bf16 ? f32_to_bf16_bits(x) : f32_to_f16_bits(x);
  }
}

}  // namespace

void fill_uniform(uint16_t* dst, size_t n, ElemType type, uint64_t seed) {
  const size_t chunks = (n + kChunk - 1) / kChunk;
  const size_t threads = std::max<size_t>(1, std::min<size_t>(chunks, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t)
    pool.emplace_back([=] {
      for (size_t c = t; c < chunks; c += threads) fill_chunk(dst + c * kChunk, std::min(kChunk, n - c * kChunk), type, seed, c);
    });
  for (std::thread& th : pool) th.join();
}

}  // namespace tile::bench
