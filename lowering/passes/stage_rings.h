// Stage rings shared by sibling loops of a warp-specialised kernel.
//
// A kernel often walks one tensor in several loops one after another: the FlashAttention
// forward reads K and V in the masked loop of a window's left edge, in the long unmasked loop,
// and in the masked loop of the causal diagonal. Each loop with its own stages would make the
// producer stop at every loop's end, so the next loop's first tiles are fetched only once its
// consumers ask for them. Instead, the TMA loads of one tensor (same pointer, shape, strides,
// tile type and stage count) in sibling loops share one ring: one set of stage buffers, one
// pair of barriers per stage and one tensor map, and the use count runs on from loop to loop
// (a loop's first use is the trip counts of the ring's earlier loops added up). The producer
// then issues the next loop's copies while the consumers still compute the current one.
//
// The loops of a group (every loop of a block with a load in a ring of several loops) meet
// the producer before the first and after the last of them only; a ring's buffers live over the
// whole group. A ring's use count is a per-thread variable of both roles (KernelEmitter::
// ringUses), so it also runs on across runs of the group inside an outer loop.
#pragma once

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace tile::lowering {

struct StageRings {
  // Every load of a ring of several loops -> the ring's first load (its head), itself included.
  llvm::DenseMap<mlir::Operation*, mlir::Operation*> head;
  // Ring head -> its loads in program order, one per loop.
  llvm::DenseMap<mlir::Operation*, llvm::SmallVector<mlir::Operation*>> loads;
  // Loop of a group -> the group's first and last loop.
  llvm::DenseMap<mlir::Operation*, std::pair<mlir::Operation*, mlir::Operation*>> group;

  // The head of `load`'s ring; `load` itself when it is in no shared ring.
  mlir::Operation* headOf(mlir::Operation* load) const {
    auto it = head.find(load);
    return it == head.end() ? load : it->second;
  }
};

// Rings of the TMA-capable pipelined loads of loops that are not inside a pipelined loop and
// whose pipelined loads are all TMA-capable (the loops a producer warpgroup feeds).
StageRings planStageRings(mlir::func::FuncOp f);

// Whether the producer-fed loop `loop` runs inside another loop (a persistent kernel's loop over
// tiles): its rings' stages, barriers and use counts then carry on from one run to the next, and
// their buffers are the kernel's own for its whole life (nothing else shares their bytes).
bool carriedAcrossRuns(mlir::Operation* loop);

// Pipelined rows (1-D loads of 32-bit values, pipeline_uses.h) in a kernel with warp roles ride
// in the stages of a TMA load of their loop, their carrier: the carrier's stage holds its tile,
// then each row (16-byte aligned). The producer's first warp issues the stage's tile, then its
// kRowCopyLanes lanes copy the rows (loads and shared stores), each arrives on the stage's
// full barrier after its stores (which counts those arrivals beside the tile's), so the
// consumers' one wait covers tile and rows, and the stage's hand-back covers their reads of
// both. Attached by attachRowsToCarriers: in each loop whose pipelined loads are all
// TMA-capable or rows, the rows to its first TMA-capable load.
constexpr const char* kRowInStageAttr = "tilegpu.row_in_stage";  // on a row: its byte offset in the stage
constexpr const char* kStageEndAttr = "tilegpu.stage_end";        // on a carrier: its stage's bytes in use
constexpr int64_t kRowCopyLanes = 32;                             // the producer's lanes copying rows
void attachRowsToCarriers(mlir::func::FuncOp f);
// The load whose stages `row` rides in; null for a row its consumers copy themselves.
mlir::Operation* rowCarrier(mlir::Operation* row);

// Whether `loop` has pipelined loads, all of them TMA-capable (or rows riding in their
// stages): the loops a producer warpgroup may feed. A loop with a pipelined row its consumers
// copy themselves is not one.
// Asked while shared memory is planned, before emission; the emitter's producerCanFeed
// (emit_pipeline.cc) answers the same for the loop version it emits.
bool producerFeedable(mlir::scf::ForOp loop);

}  // namespace tile::lowering
