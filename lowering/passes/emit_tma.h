// TMA copies for software-pipelined loads (Hopper's bulk tensor copy engine).
//
// A pipelined load_block qualifies (tmaCapable) when its tile is 2-D, 16-bit, held 128B-swizzled
// in its stage buffers, at most 256 rows, and its pointer, shape and strides do not change
// inside the loop. Its stage buffers then get, after them, the block's tensor map staging area
// (128 bytes) and one "full" mbarrier per stage. At run time the loop checks what TMA needs
// (16-byte aligned base, unit inner stride, row stride a multiple of 16 bytes, non-empty
// extents); where it fails the same buffers are filled by cp.async as before.
//
// With TMA, one thread per block issues a stage's copies (one per 128-byte column chunk) after
// arming the stage's barrier with the bytes to expect; every thread waits on that barrier
// (phase parity = use count of the stage & 1) before reading the stage. The block-wide barrier
// the pipeline already has at the top of each iteration is what hands a stage back for reuse.
#pragma once

#include "dsl/ir/TileDialect.h"
#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace tile::lowering {

bool tmaCapable(tile::ir::LoadBlockOp load);
// Bytes after the S stage buffers: tensor map staging and S barriers (0 without TMA).
int64_t tmaExtraBytes(tile::ir::LoadBlockOp load, int64_t stages);

// One TMA-capable pipelined load inside the emission of its loop.
struct TmaPipe {
  tile::ir::LoadBlockOp load;
  int index = 0;                // its template / tensor map number in the kernel
  int64_t buffers = 0;          // offset of stage 0 in shared memory
  int64_t stageBytes = 0, stages = 0;
  mlir::Value usable;           // i1, uniform: the run-time conditions hold
  mlir::Value map;              // i64 global address of this block's tensor map

  int64_t mapOffset() const { return buffers + stages * stageBytes; }
  int64_t barrierOffset() const { return mapOffset() + 128; }
};

// Evaluates the run-time conditions and, where they hold, builds the block's tensor map and
// initialises the barriers. `ptr`, `shape` and `strides` are the load's operands as values
// valid before the loop. Callers emit one block-wide barrier after all their pipes' setups.
void emitTmaSetup(KernelEmitter& e, mlir::Location loc, TmaPipe& p, mlir::Value ptr, llvm::ArrayRef<mlir::Value> shape,
                  llvm::ArrayRef<mlir::Value> strides);
// Thread 0: arms stage `slot`'s barrier and issues the copies of the tile at `offsets` (row,
// column) when `valid`.
void emitTmaIssue(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot, llvm::ArrayRef<mlir::Value> offsets,
                  mlir::Value valid);
// Every thread: waits until stage `slot`'s copy of use number `use` has landed.
void emitTmaWait(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot, mlir::Value use);
// After the loop (a block-wide barrier first): thread 0 invalidates the barriers, so the bytes
// can serve other loops' buffers.
void emitTmaRelease(KernelEmitter& e, mlir::Location loc, const TmaPipe& p);

}  // namespace tile::lowering
