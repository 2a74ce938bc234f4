// The layouts tile-assign-layouts picks when nothing forces another one.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "lowering/ir/TilegpuDialect.h"
#include "mlir/IR/MLIRContext.h"

namespace tile::lowering {

// Blocked layout for a tile of `shape` with `elemBits`-bit elements over `numWarps` warps:
// each thread owns up to 16 contiguous bytes of the last dimension (one vector access), lanes
// fill the last dimension first, warps split the first dimension.
tile::gpu::BlockedAttr defaultBlocked(mlir::MLIRContext* ctx, llvm::ArrayRef<int64_t> shape,
                                      unsigned elemBits, unsigned numWarps);

// mma.sync accumulator layout for an MxN result: warps along M while each still gets 16 rows,
// the rest along N.
tile::gpu::MmaAttr defaultMma(mlir::MLIRContext* ctx, llvm::ArrayRef<int64_t> shape, unsigned numWarps);

}  // namespace tile::lowering
