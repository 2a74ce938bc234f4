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

// mma.sync accumulator layout for an MxN result. With `rowsInWarp` (kernels that reduce dot
// results along rows, e.g. attention's softmax): warps along M while each still gets 16 rows,
// so a row never spans warps and P can feed the next dot without moving. Otherwise the warp grid
// that minimises each warp's operand traffic (M/wm + N/wn), like a GEMM wants. With `wgmma`
// (the dot is wgmmaShape): warps along M as far as M goes, the remaining warpgroups each own a
// contiguous block of columns (columnBlocks).
tile::gpu::MmaAttr defaultMma(mlir::MLIRContext* ctx, llvm::ArrayRef<int64_t> shape, unsigned numWarps,
                              bool rowsInWarp = true, bool wgmma = false);

// Shapes Hopper's wgmma runs: 16-bit operands into f32, a multiple of 4 warps, K a multiple of
// 16. Warps go along M (16 rows each) in whole warpgroups (4 consecutive warps then own 64
// consecutive rows), M a multiple of 16 rows per such warp; warpgroups left over when M runs
// out split N into equal blocks of a multiple of 8 columns (a 64-row dot over 8 warps: two
// warpgroups of 64 x N/2). The layout pass gives such dots that warp grid; the emitter uses
// wgmma when their B operand also sits in a swizzled shared tile.
bool wgmmaShape(int64_t M, int64_t N, int64_t K, unsigned operandBits, bool f32Accumulator, unsigned numWarps);

}  // namespace tile::lowering
