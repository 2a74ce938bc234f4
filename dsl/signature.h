// A kernel's argument list as plain data (no MLIR), so generated launch stubs and the host
// runtime can be typed without linking the compiler.
#pragma once

#include <string>
#include <vector>

#include "dsl/core/dtype.h"

namespace tile {

enum class ArgKind { ptr, i32, f32 };

struct KernelArg {
  std::string name;
  ArgKind kind = ArgKind::i32;
  DType pointee = DType::f32;  // element type of a `ptr` argument; unused otherwise
};

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
