// tile.dot: result = a @ b + acc with exact products accumulated in f32, k = 0..K-1 in order,
// starting from acc. The i-k-j loop streams rows of b and of the result, so the inner loop is a
// contiguous axpy the compiler vectorises; a clone for AVX2/FMA machines is picked at load time.
#include <cmath>
#include <cstring>

#include "dsl/interp/program.h"

namespace tile::interp {
namespace {

// f16 / bf16 operands: a product of two 11-bit (or 8-bit) significands is exact in f32, so a
// plain multiply-add rounds once, exactly like a fused multiply-add.
__attribute__((target_clones("arch=haswell", "default")))
void dotSmall(const float* a, const float* b, float* c, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict crow = c + i * N;
    for (int64_t k = 0; k < K; ++k) {
      const float aik = a[i * K + k];
      const float* __restrict brow = b + k * N;
      for (int64_t j = 0; j < N; ++j) crow[j] += aik * brow[j];
    }
  }
}

// f32 operands: products are not exact in f32, so use a fused multiply-add to keep them exact.
__attribute__((target_clones("arch=haswell", "default")))
void dotF32(const float* a, const float* b, float* c, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict crow = c + i * N;
    for (int64_t k = 0; k < K; ++k) {
      const float aik = a[i * K + k];
      const float* __restrict brow = b + k * N;
      for (int64_t j = 0; j < N; ++j) crow[j] = std::fma(aik, brow[j], crow[j]);
    }
  }
}

}  // namespace

void execDot(const Instr& in, Value* s) {
  const int64_t M = in.shape[0], N = in.shape[1], K = in.srcShape[1];
  const float* a = s[in.operands[0]].tile->f();
  const float* b = s[in.operands[1]].tile->f();
  const float* acc = s[in.operands[2]].tile->f();
  TilePtr out = newTile(M * N);
  std::memcpy(out->f(), acc, static_cast<size_t>(M * N) * 4);
  if (in.src == Elem::f32) dotF32(a, b, out->f(), M, K, N);
  else dotSmall(a, b, out->f(), M, K, N);
  s[in.result].tile = std::move(out);
}

}  // namespace tile::interp
