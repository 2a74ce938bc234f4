// A kernel's argument list as plain data (no MLIR), so generated launch stubs and the host
// runtime can be typed without linking the compiler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"

namespace tile {

enum class ArgKind { ptr, i32, f32 };

// What a kernel may assume of an argument's value, as Triton's divisibility specialisation: a
// pointer's address, or an i32's value, is a multiple of `divisor` (a power of two); with
// `positive` an i32 is also > 0. The lowering drops the run-time tests these facts decide (the
// TMA and vector-width checks, and with them the fallback versions of loops and block
// accesses); every launch checks the values first and refuses those that break them.
struct ArgAssumption {
  int64_t divisor = 1;
  bool positive = false;
  bool any() const { return divisor > 1 || positive; }
};

struct KernelArg {
  std::string name;
  ArgKind kind = ArgKind::i32;
  DType pointee = DType::f32;  // element type of a `ptr` argument; unused otherwise
  ArgAssumption assume;
};

// Whether `value` (an i32, or a pointer's address) meets `a`.
inline bool meets(const ArgAssumption& a, int64_t value) {
  return value % a.divisor == 0 && (!a.positive || value > 0);
}

struct KernelSignature {
  std::string name;
  std::vector<KernelArg> args;  // in launch order
  int num_warps = 4;
  int min_blocks_per_sm = 0;  // 0: no occupancy hint
  bool warpgroup_turns = false;
  bool warp_specialized = false;
};

// "ptr<bf16>", "i32", "f32".
std::string arg_kind_name(const KernelArg& arg);

}  // namespace tile
