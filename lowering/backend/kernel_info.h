// What the back end reports about each compiled kernel. Plain data, no MLIR, so the code
// generator's emitter and the tests can use it without linking MLIR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lowering/backend/register_split.h"

namespace tile::backend {

// One PTX parameter per kernel argument (the contract of the front half of the lowering).
enum class ArgKind { kPointer, kI32, kI64, kF32, kF64 };

inline const char* arg_kind_name(ArgKind kind) {
  switch (kind) {
    case ArgKind::kPointer: return "pointer";
    case ArgKind::kI32: return "i32";
    case ArgKind::kI64: return "i64";
    case ArgKind::kF32: return "f32";
    case ArgKind::kF64: return "f64";
  }
  return "unknown";
}

struct TmaTemplate {
  int elem = 0, box_cols = 0, box_rows = 0;
};

struct KernelArg {
  ArgKind kind;
  std::string name;    // from the `tile.arg_name` argument attribute, else "arg<i>"
  std::string c_type;  // from `tile.arg_ctype`, else void* / int32_t / int64_t / float / double
  // What the kernel assumes of the value (the DSL's ArgAssumption), checked at every launch.
  int64_t divisor = 1;
  bool positive = false;
};

// ptxas -v's report for one entry function.
struct ResourceUsage {
  int registers = -1;         // per thread
  int stack_frame_bytes = 0;
  int spill_store_bytes = 0;
  int spill_load_bytes = 0;
  int static_smem_bytes = 0;  // shared memory declared in the PTX (not the dynamic part)
  int barriers = 0;
  // ptxas's advisory when it serialises the function's wgmma.mma_async instructions (a wait
  // after each one; e.g. "C7512: insufficient register resources"), empty when it does not:
  // such a kernel runs its dots one at a time, whatever its spill count says.
  std::string wgmma_serialized;
};

struct CompiledKernel {
  std::string name;        // the gpu.func symbol = PTX entry
  std::string module_name; // the enclosing gpu.module
  int num_warps = 0;       // tile.num_warps
  int smem_bytes = 0;      // tile.smem_bytes (dynamic shared memory at launch)
  std::vector<KernelArg> args;  // the kernel's own arguments (not the hidden TMA workspace)
  // TMA templates the runtime encodes into the workspace passed as a hidden last argument:
  // {element type (0 bf16, 1 f16), box columns, box rows} each (lowering/passes/async_ptx.h).
  std::vector<TmaTemplate> tma_templates;
  // Warp specialisation: the computing warps when a producer warpgroup feeds them (0: none),
  // or why a kernel that asked for it did not get it.
  int consumer_warps = 0;
  std::string warp_roles_refused;
  // The producer/consumer registers of its setmaxnreg (tile.register_split; zeros without
  // roles): the lowering's default, or the split the back end chose for fewer spills.
  RegisterSplit register_split;
  ResourceUsage resources;
};

// One gpu.module: its PTX text (from LLVM's NVPTX back end) and, when ptxas ran, its cubin.
struct CompiledModule {
  std::string name;
  std::string ptx;
  std::vector<uint8_t> cubin;
  std::string ptxas_log;   // ptxas -v output, kept for reports
  std::vector<CompiledKernel> kernels;
};

}  // namespace tile::backend
