// The back end: a module of `gpu.module`s (the front half's output) -> PTX for sm_90a through
// MLIR's NVVM lowering and LLVM's NVPTX back end -> cubin through ptxas.
//
// Input contract (lowering/pipeline.h produces it):
//   module attributes {gpu.container_module} {
//     gpu.module @kernels {
//       gpu.func @name(%p: !llvm.ptr, %n: i32, %x: f32, ...) kernel
//           attributes {tile.num_warps = 4 : i32, tile.smem_bytes = 0 : i32} { ... } } }
// Kernel arguments are !llvm.ptr, i32, i64, f32 or f64: one PTX parameter each. A launch uses
// num_warps*32 threads per block and tile.smem_bytes of dynamic shared memory.
#pragma once

#include <string>
#include <vector>

#include "lowering/backend/kernel_info.h"
#include "lowering/backend/ptxas.h"

namespace mlir {
class DialectRegistry;
class ModuleOp;
}  // namespace mlir

namespace tile::backend {

struct BackendOptions {
  std::string chip = "sm_90a";         // wgmma/setmaxnreg need the "a" variant
  std::string ptx_features = "+ptx83"; // MLIR's default +ptx60 aborts for sm_90a; 8.3 has tensormap.replace
  int llvm_opt_level = 3;
  // Write `known_block_size` = num_warps*32 on each kernel (PTX .maxntid). Without it ptxas must
  // assume 1024 threads per block and caps every kernel at 64 registers per thread.
  bool declare_block_size = true;
  // Let LLVM fuse a float multiply and add into one FMA (as nvcc's default --fmad=true): the
  // scaled-score subtraction before exp2 and similar pairs become one instruction. Off gives
  // PTX's separately rounded mul.rn / add.rn.
  bool contract_float_ops = true;
  bool run_ptxas = true;   // false: PTX only (no cubin, no resource usage)
  // Warp-specialised kernels that ptxas reports spills for are assembled again with up to this
  // many register splits (lowering/backend/register_split.h; the default first), and keep the
  // one with the fewest spill bytes. 1: the lowering's default split only.
  int register_split_levels = 3;
  PtxasOptions ptxas;      // its arch is taken from `chip`
};

struct BackendResult {
  std::string error;  // empty on success; otherwise the MLIR diagnostics or ptxas's log
  std::vector<CompiledModule> modules;

  bool ok() const { return error.empty(); }
  // The kernel named `name` in any module (nullptr if none), and its module.
  const CompiledKernel* find_kernel(const std::string& name,
                                    const CompiledModule** module = nullptr) const;
};

// Registers the dialects, interfaces and LLVM IR translations the NVVM lowering needs. Call it
// on the registry of the context the module lives in (compile_gpu_module also appends it).
void register_backend_dialects(mlir::DialectRegistry& registry);

// Compiles every gpu.module in `module`. The module itself is left as it was: the lowering runs
// on a clone. Never throws for bad input; the result's error says what failed.
BackendResult compile_gpu_module(mlir::ModuleOp module, const BackendOptions& options = {});

}  // namespace tile::backend
