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

// A pipelined row: a 1-D tile of 32-bit values whose uses need not be dots. Its stages hold
// the elements in order (4 bytes each, one cp.async per element) and the load op itself reads
// the thread's registers from the iteration's stage (ld.shared) where it stands in the body,
// so the values live in registers only from there to their uses.
inline bool pipelinedRow(tile::ir::LoadBlockOp load) { return load.getResult().getType().getRank() == 1; }
// Longer rows are left alone: S stages of them would crowd out the dot operands' buffers.
constexpr int64_t kMaxPipelinedRow = 1024;

}  // namespace tile::lowering
