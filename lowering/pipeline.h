// The tile -> GPU lowering in one place.
//
// Pass list (also registered as the `tile-to-gpu` pipeline of tile-opt):
//   tile-assign-layouts   every tile gets a tilegpu layout, convert_layout where they meet
//   tile-pipeline-loops   marks dot-operand loads of tile.stages loops for cp.async prefetch
//   tile-convert-to-gpu   gpu.module @kernels of gpu.func kernels, per-thread scalar code
//   canonicalize, cse     tidy the per-thread code
// The output is ready for the NVVM lowering (gpu-lower-to-nvvm-pipeline, sm_90a, +ptx83).
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LogicalResult.h"

namespace tile::lowering {

// Appends the pass list to `pm` (a ModuleOp pass manager).
void buildTileToGpuPipeline(mlir::OpPassManager& pm);

// Runs the pass list on `m` in place.
mlir::LogicalResult lower_tile_to_gpu(mlir::ModuleOp m);

// Registers every lowering pass and the `tile-to-gpu` pipeline with the global registry (for
// tile-opt), and the dialects they need in `registry`.
void registerLowering(mlir::DialectRegistry& registry);

}  // namespace tile::lowering
