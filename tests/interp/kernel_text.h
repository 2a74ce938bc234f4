// Test helpers: parse tile-dialect MLIR text and compile one of its functions for the
// interpreter. Keeps MLIR headers out of the test files (each MLIR TU costs seconds to build).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/interp/interp.h"

namespace tile::interp::testing {

// Parses `mlir` (one or more func.func) and compiles the function `name` (the first if empty).
// Throws std::runtime_error with the parser's diagnostics if the text does not parse or verify.
std::shared_ptr<const Program> compileText(const std::string& mlir, const std::string& name = "");

// Parses `mlir` and runs its first function through the func::FuncOp overload of run().
void runText(const std::string& mlir, Grid grid, const std::vector<Arg>& args, const Options& options = {});

inline Arg buf(std::vector<float>& v) { return Arg::buffer(v.data(), DType::f32, int64_t(v.size())); }
inline Arg buf(std::vector<int32_t>& v) { return Arg::buffer(v.data(), DType::i32, int64_t(v.size())); }
// 16-bit buffers hold raw bits.
inline Arg buf16(std::vector<uint16_t>& v, DType t) { return Arg::buffer(v.data(), t, int64_t(v.size())); }

inline std::vector<uint16_t> toBits(DType t, const std::vector<float>& x) {
  std::vector<uint16_t> r(x.size());
  for (size_t k = 0; k < x.size(); ++k) r[k] = t == DType::bf16 ? f32_to_bf16_bits(x[k]) : f32_to_f16_bits(x[k]);
  return r;
}
inline std::vector<float> fromBits(DType t, const std::vector<uint16_t>& b) {
  std::vector<float> r(b.size());
  for (size_t k = 0; k < b.size(); ++k) r[k] = t == DType::bf16 ? bf16_bits_to_f32(b[k]) : f16_bits_to_f32(b[k]);
  return r;
}

// Bit-level equality, so that NaN == NaN and -0 != +0.
inline bool sameBits(float a, float b) {
  uint32_t x, y;
  __builtin_memcpy(&x, &a, 4);
  __builtin_memcpy(&y, &b, 4);
  return x == y || (a != a && b != b);
}

// Replaces every occurrence of `from` in `text`.
std::string subst(std::string text, const std::string& from, const std::string& to);

}  // namespace tile::interp::testing
