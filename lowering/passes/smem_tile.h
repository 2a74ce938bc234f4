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

// Alignment of shared tiles a dot may read through a wgmma descriptor (one swizzle pattern
// repeats every 8 rows of 128 bytes).
constexpr int64_t kSmemOperandAlign = 1024;

// A tile in shared memory: rows along the slow dimension, elements contiguous along `fast`.
// Two arrangements:
//  * padded: each row padded by 16 bytes (rows fall in different banks for ldmatrix);
//  * swizzled (`kSwizzle128`, 2-D 16-bit tiles whose rows are a multiple of 128 bytes and whose
//    row count is a multiple of 8): the row is cut into 128-byte column chunks, each chunk is a
//    region of its own (rows x 128 bytes), and inside it the 16-byte unit u of row r sits at
//    unit u ^ (r % 8). That is the "128B swizzle" canonical layout wgmma reads through a
//    shared-memory descriptor (region base 1024-byte aligned), and ldmatrix reads it without
//    bank conflicts too, with no padding bytes.
struct SmemTile {
  int rank, fast;
  int64_t rowStride, bytes;
  unsigned eb;
  bool swizzled = false;
  int64_t rows = 0, cols = 0;  // extents along the slow / fast dimension (2-D tiles)
  static constexpr int64_t kSwizzleBytes = 128;
  static bool canSwizzle(ArrayRef<int64_t> shape, int fastDim, unsigned elemBytes) {
    return shape.size() == 2 && elemBytes == 2 && (shape[fastDim] * elemBytes) % kSwizzleBytes == 0 &&
           shape[1 - fastDim] % 8 == 0;
  }
  SmemTile(ArrayRef<int64_t> shape, int fastDim, unsigned elemBytes, bool allowSwizzle = false)
      : rank(int(shape.size())), fast(fastDim), eb(elemBytes) {
    if (rank == 1) {
      rowStride = 0;
      bytes = shape[0] * eb;
      return;
    }
    rows = shape[1 - fast], cols = shape[fast];
    swizzled = allowSwizzle && canSwizzle(shape, fastDim, elemBytes);
    rowStride = swizzled ? cols : cols + 16 / eb;
    bytes = rows * rowStride * eb;
  }
  int slow() const { return 1 - fast; }
  // Bytes between two 128-byte column chunks of a swizzled tile.
  int64_t chunkBytes() const { return rows * kSwizzleBytes; }
  // Set for tiles in a software-pipelining slot (absolute byte offset of the tile); unset for
  // tiles in the scratch area.
  Value slotBase;
  Value byteOffset(KernelEmitter& e, Location loc, ArrayRef<Value> c) const {
    OpBuilder& b = e.b;
    auto mul = [&](Value v, int64_t k) { return b.create<arith::MulIOp>(loc, v, e.i32(k)).getResult(); };
    auto add = [&](Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y).getResult(); };
    if (rank == 1) return mul(c[0], eb);
    if (!swizzled) return mul(add(mul(c[slow()], rowStride), c[fast]), eb);
    // col bytes = chunk * 128 + unit * 16 + within; all extents are powers of two.
    Value row = c[slow()], colBytes = mul(c[fast], eb);
    Value chunk = b.create<arith::ShRUIOp>(loc, colBytes, e.i32(7));
    Value unit = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, colBytes, e.i32(4)), e.i32(7));
    Value within = b.create<arith::AndIOp>(loc, colBytes, e.i32(15));
    Value swz = b.create<arith::XOrIOp>(loc, unit, b.create<arith::AndIOp>(loc, row, e.i32(7)));
    Value off = add(mul(chunk, chunkBytes()), mul(row, kSwizzleBytes));
    return add(add(off, mul(swz, 16)), within);
  }
  Value address(KernelEmitter& e, Location loc, ArrayRef<Value> c) const {
    Value off = byteOffset(e, loc, c);
    if (!slotBase) return e.smemAt(off);
    return e.smemAbsolute(e.b.create<arith::AddIOp>(loc, slotBase, off));
  }
};

// The stages of software-pipelined loads (emit_pipeline.cc, emit_tma.cc, stage_rings.cc): a
// dot operand's tile of 16-bit elements, swizzled where it can be (then TMA's 128-byte-swizzle
// box layout and wgmma's), contiguous along `fast` (1: the rows; 0: seen transposed); a
// pipelined row's 32-bit elements in order.
inline SmemTile operandStageTile(ArrayRef<int64_t> shape, int fast = 1) { return SmemTile(shape, fast, 2, /*allowSwizzle=*/true); }
inline SmemTile rowStageTile(ArrayRef<int64_t> shape) { return SmemTile(shape, 0, 4); }

// Every register of layout `l` loaded from the shared tile `t`, in vectors of the contiguous
// run each thread owns along the fast dimension (at most 16 bytes).
llvm::SmallVector<Value> loadTile(KernelEmitter& e, Location loc, const LinearLayout& l, const SmemTile& t, mlir::Type elem);

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
