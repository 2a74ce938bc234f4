// How a software-pipelined load's tile is read: the uses tile-pipeline-loops accepts, shared by
// that pass and the emitters that place and read the stage buffers.
#pragma once

#include "dsl/ir/TileDialect.h"
#include "llvm/ADT/SmallVector.h"
#include "lowering/ir/TilegpuDialect.h"

namespace tile::lowering {

// One dot operand read from the stage buffer: `convert` turns the tile (or its transpose, when
// `trans` is set) into the operand's dot_op layout.
struct PipelineUse {
  mlir::Operation* trans = nullptr;
  tile::gpu::ConvertLayoutOp convert;
};

// Every use of `load`, when each one is such a dot operand in the load's block; else empty.
llvm::SmallVector<PipelineUse> pipelinedConsumers(tile::ir::LoadBlockOp load);

}  // namespace tile::lowering
