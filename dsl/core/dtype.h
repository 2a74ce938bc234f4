// Element types shared by the DSL, the interpreter, the runtime and the host API, and exact
// conversions between fp32 and the 16-bit float formats (round-to-nearest-even, NaN/Inf kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tile {

enum class DType : uint8_t { f16, bf16, f32, f64, i32, i64, i1 };

// Size in bytes of one element (i1 is stored as one byte).
size_t dtype_size(DType t);
// Short name used in IR and messages: "f16", "bf16", "f32", "f64", "i32", "i64", "i1".
const char* dtype_name(DType t);
// Parses the short names above plus "fp16", "float16", "bfloat16", "fp32", "float32".
// Throws std::invalid_argument naming the text on failure.
DType parse_dtype(const std::string& text);
bool is_float(DType t);

// Bit-exact conversions. fp32 -> 16-bit rounds to nearest even, keeps Inf, and turns NaN into a
// quiet NaN (the sign is kept). 16-bit -> fp32 is exact.
uint16_t f32_to_f16_bits(float x);
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_bf16_bits(float x);
float bf16_bits_to_f32(uint16_t b);

// Rounds a float to the nearest value representable in `t` (f16/bf16/f32), returned as float.
float round_to(DType t, float x);

}  // namespace tile
