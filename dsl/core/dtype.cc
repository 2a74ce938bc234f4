#include "dsl/core/dtype.h"

#include <cstring>
#include <stdexcept>

namespace tile {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f16: case DType::bf16: return 2;
    case DType::f32: case DType::i32: return 4;
    case DType::f64: case DType::i64: return 8;
    case DType::i1: return 1;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::i1: return "i1";
  }
  return "?";
}

DType parse_dtype(const std::string& s) {
  if (s == "f16" || s == "fp16" || s == "float16") return DType::f16;
  if (s == "bf16" || s == "bfloat16") return DType::bf16;
  if (s == "f32" || s == "fp32" || s == "float32") return DType::f32;
  if (s == "f64" || s == "fp64" || s == "float64") return DType::f64;
  if (s == "i32" || s == "int32") return DType::i32;
  if (s == "i64" || s == "int64") return DType::i64;
  if (s == "i1" || s == "bool") return DType::i1;
  throw std::invalid_argument("dtype: expected one of bf16, fp16, f32, f64, i32, i64, i1; got '" + s + "'");
}

bool is_float(DType t) { return t == DType::f16 || t == DType::bf16 || t == DType::f32 || t == DType::f64; }

static uint32_t bits_of(float x) { uint32_t u; std::memcpy(&u, &x, 4); return u; }
static float float_of(uint32_t u) { float x; std::memcpy(&x, &u, 4); return x; }

uint16_t f32_to_bf16_bits(float x) {
  uint32_t u = bits_of(x);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0)
    return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN, sign kept
  // Round to nearest even on the 16 dropped bits; overflow carries into Inf correctly.
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return static_cast<uint16_t>(u >> 16);
}

float bf16_bits_to_f32(uint16_t b) { return float_of(static_cast<uint32_t>(b) << 16); }

uint16_t f32_to_f16_bits(float x) {
  uint32_t u = bits_of(x);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t exp = (u >> 23) & 0xffu;
  uint32_t man = u & 0x007fffffu;
  if (exp == 0xff) return sign | (man ? 0x7e00u : 0x7c00u);  // NaN -> quiet NaN, Inf -> Inf
  int32_t e = static_cast<int32_t>(exp) - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00u;  // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the full mantissa, rounding to nearest even.
    if (e < -10) return sign;
    man |= 0x00800000u;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1u);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) half++;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (man >> 13);
  uint32_t rem = man & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;  // may carry into Inf: correct
  return sign | static_cast<uint16_t>(half);
}

float f16_bits_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) return float_of(sign | 0x7f800000u | (man << 13));
  if (exp == 0) {
    if (man == 0) return float_of(sign);
    // Subnormal: normalise.
    int e = -1;
    do { man <<= 1; e++; } while ((man & 0x400u) == 0);
    man &= 0x3ffu;
    return float_of(sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (man << 13));
  }
  return float_of(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

float round_to(DType t, float x) {
  switch (t) {
    case DType::f16: return f16_bits_to_f32(f32_to_f16_bits(x));
    case DType::bf16: return bf16_bits_to_f32(f32_to_bf16_bits(x));
    default: return x;
  }
}

}  // namespace tile
