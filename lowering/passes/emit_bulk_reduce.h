// atomic_add_block by bulk reduce-add (sm_90): instead of a red.global.add per element from
// every thread, each warp stages the fragments it owns in a shared-memory region of the op's
// own and its first lane adds the warp's whole row segments to global memory with
// cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 (async_ptx.h). The copy engine
// does the adds while the warps go on; the warps only wait, at the op's next execution, until
// their previous reduces have *read* the region, and at the kernel's end until they completed.
//
// It applies where the value's layout gives each warp row segments of at least 128 bytes:
// within a warp the register and lane bases along the columns start 1, 2, 4, ... up to 32
// columns or more (a run of contiguous columns), the others place the warp's segments, and no
// two warps hold the same elements. Then the warp owns whole segments and needs no barrier
// with any other warp. The wgmma accumulator gives a warp 16 rows of its warpgroup's columns
// (one segment a row: 256 bytes at d=128); mma.sync's, with warps along the columns, runs of
// 8 columns, which measured slower than the per-element atomics and keep them. At run time the bulk path needs 16-byte aligned rows (base pointer, row stride,
// column offset and column extent all multiples of 4 floats) and falls back to the
// per-element atomics otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "dsl/ir/TileDialect.h"
#include "lowering/layout/linear_layout.h"
#include "lowering/passes/kernel_emitter.h"

namespace tile::lowering {

struct BulkReducePlan {
  // The warp's row segments, from its warp coordinate: bit j of a segment's index adds
  // segmentBases[j] = (dimension, amount) to its (row, column); each segment spans
  // `segmentCols` contiguous columns from there.
  std::vector<std::pair<int, int64_t>> segmentBases;
  int64_t segmentCols = 0;
  int64_t rows = 0, cols = 0;  // the tile's shape
  // Staging row pitch in bytes: the tile's row padded so that the pitch is 8 words past a
  // multiple of 32 banks; then the 64-bit fragment stores of an accumulator layout's half warp
  // (4 rows of 8 words) hit 32 different banks.
  int64_t pitchBytes = 0;
  int64_t segmentsPerWarp() const { return int64_t(1) << segmentBases.size(); }
  int64_t regionBytes() const { return rows * pitchBytes; }
};

// The plan for an f32 tile of layout `l` and `shape`, or nothing when its warps do not own
// whole row segments of at least 128 bytes.
std::optional<BulkReducePlan> planBulkReduce(const LinearLayout& l, llvm::ArrayRef<int64_t> shape);
std::optional<BulkReducePlan> planBulkReduce(mlir::RankedTensorType type);

// Emits `op` on the bulk path with its staging region at `regionOffset` (absolute shared-memory
// byte offset), behind a run-time alignment check whose other branch is `fallback` (the
// per-element atomics).
mlir::LogicalResult emitBulkReduceAdd(KernelEmitter& e, tile::ir::AtomicAddBlockOp op, int64_t regionOffset,
                                      const std::function<mlir::LogicalResult()>& fallback);

// At the kernel's exit, when it issued bulk reduces: each thread waits until its have completed.
void emitBulkReduceDrain(KernelEmitter& e, mlir::Location loc);

}  // namespace tile::lowering
