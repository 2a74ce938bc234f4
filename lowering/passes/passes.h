// The lowering passes, each runnable alone from tile-opt (see lowering/pipeline.h for the list).
#pragma once

#include <memory>

#include "mlir/Pass/Pass.h"

namespace tile::lowering {

// tile-assign-layouts: gives every tensor in a kernel a tilegpu layout encoding, inserting
// tilegpu.convert_layout where producers and consumers disagree.
std::unique_ptr<mlir::Pass> createAssignLayoutsPass();

// tile-pipeline-loops: marks the dot-operand loads of `tile.stages` loops that
// tile-convert-to-gpu fetches ahead with cp.async into multi-stage shared-memory buffers.
std::unique_ptr<mlir::Pass> createPipelineLoopsPass();

// tile-convert-to-gpu: laid-out tile kernels -> gpu.module @kernels of gpu.func kernels whose
// bodies hold only per-thread scalar code (arith/math/scf/gpu/nvvm/llvm/vector).
std::unique_ptr<mlir::Pass> createConvertToGpuPass();

void registerLoweringPasses();

}  // namespace tile::lowering
