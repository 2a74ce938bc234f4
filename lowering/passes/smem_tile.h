// Tiles in shared memory and mma operand fragments read from them with ldmatrix.
#pragma once

#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

namespace tile::lowering {

using mlir::ArrayRef;
using mlir::Location;
using mlir::OpBuilder;
using mlir::Value;
namespace arith = mlir::arith;

// A tile in shared memory: row-major along `fast` (the contiguous dimension), rows padded.
struct SmemTile {
  int rank, fast;
  int64_t rowStride, bytes;
  unsigned eb;
  SmemTile(ArrayRef<int64_t> shape, int fastDim, unsigned elemBytes) : rank(int(shape.size())), fast(fastDim), eb(elemBytes) {
    if (rank == 1) {
      rowStride = 0;
      bytes = shape[0] * eb;
    } else {
      rowStride = shape[fast] + 16 / eb;
      bytes = shape[1 - fast] * rowStride * eb;
    }
  }
  int slow() const { return 1 - fast; }
  // Set for tiles in a software-pipelining slot (absolute byte offset of the tile); unset for
  // tiles in the scratch area.
  Value slotBase;
  Value byteOffset(KernelEmitter& e, Location loc, ArrayRef<Value> c) const {
    OpBuilder& b = e.b;
    Value idx = rank == 1 ? c[0]
                          : b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, c[slow()], e.i32(rowStride)), c[fast]).getResult();
    return b.create<arith::MulIOp>(loc, idx, e.i32(eb));
  }
  Value address(KernelEmitter& e, Location loc, ArrayRef<Value> c) const {
    Value off = byteOffset(e, loc, c);
    if (!slotBase) return e.smemAt(off);
    return e.smemAbsolute(e.b.create<arith::AddIOp>(loc, slotBase, off));
  }
};

// mma.sync operand fragments of layout `dl` (dot_op opIdx) from the shared tile `t`.
// With kSlab >= 0 only the fragments of that k-step (k in [kSlab, kSlab + 16)) are loaded.
mlir::LogicalResult loadFragments(KernelEmitter& e, mlir::Operation* op, const LinearLayout& dl, unsigned opIdx,
                                  const SmemTile& t, mlir::Type elem, llvm::SmallVector<Value>& out, int64_t kSlab);

// A dot operand left in shared memory for the dot to read per k-step.
struct DeferredFragments {
  SmemTile tile;
  LinearLayout layout;
  unsigned opIdx;
  mlir::Type elem;
  mlir::Operation* convert;
};

}  // namespace tile::lowering
