// TMA copies for software-pipelined loads (Hopper's bulk tensor copy engine).
//
// A pipelined load_block qualifies (tmaCapable) when its tile is 2-D, 16-bit, held 128B-swizzled
// in its stage buffers, at most 256 rows, and its pointer, shape and strides do not change
// inside the loop. It then gets, in a region of its own that lives over the whole kernel, the
// block's tensor map staging area (128 bytes), one "full" and one "empty" mbarrier per stage.
// At run time the pipeliner checks what TMA needs (tmaUsable: 16-byte aligned base, unit inner
// stride, row stride a multiple of 16 bytes, non-empty extents) and runs a TMA version of the
// loop where it holds, the cp.async version where it does not.
//
// In the TMA version one thread per block issues a stage's copies (one per 128-byte column
// chunk) after arming the stage's full barrier with the bytes to expect; every thread waits on
// that barrier (phase parity = the stage's use count & 1) before reading the stage. When every
// pipelined load of the loop is copied by TMA, a stage goes back to the producer through its
// empty barrier: each warp arrives on it once it is done with the stage, and the producer waits
// for the previous use's phase before refilling it, so warps are not held in lock step by a
// block-wide barrier per iteration. Otherwise that barrier stays and hands stages back.
#pragma once

#include "dsl/ir/TileDialect.h"
#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace tile::lowering {

bool tmaCapable(tile::ir::LoadBlockOp load);
// Bytes of the tensor map staging and the 2S barriers (0 without TMA), beside the stage buffers.
int64_t tmaExtraBytes(tile::ir::LoadBlockOp load, int64_t stages);

// One TMA-capable pipelined load inside the emission of its loop.
struct TmaPipe {
  tile::ir::LoadBlockOp load;
  int index = 0;                // its template / tensor map number in the kernel
  int64_t buffers = 0;          // offset of stage 0 in shared memory
  int64_t stageBytes = 0, stages = 0;
  bool handBack = false;        // stages go back through empty barriers (no per-iteration barrier)
  mlir::Value map;              // i64 global address of this block's tensor map (TMA version)
  int64_t extra = 0;            // offset of the map staging and barriers (KernelEmitter::tmaExtraOffset)
  bool atEntry = false;         // barriers initialised at the kernel's entry (KernelEmitter::barriersAtEntry)
  // Arrivals that complete a phase of a full barrier: the issuer's expect_tx arrival, plus one
  // per lane of the producer warp that copies the rows riding in the stage (fullArrivalsOf).
  int64_t fullArrivals = 1;
  // i1, uniform, or null when the facts rule it out: the tensor has an empty extent. Its map
  // then gets extent 1 (TMA refuses 0) and every copy's box is placed above row 0, all out of
  // bounds, so TMA fills it with zeros as it would an empty tensor's.
  mlir::Value empty;
  // Rows ride in the stages and the producer warpgroup copies them (the lanes' arrivals in
  // fullArrivals): every consumer lane reads them with ordinary loads, so every consumer lane
  // hands the stage back (emptyArrivals), not one lane per warp after a warp barrier.
  bool rowsRide() const { return fullArrivals > 1; }
  int64_t mapOffset() const { return extra; }
  int64_t fullOffset() const { return mapOffset() + 128; }
  int64_t emptyOffset() const { return fullOffset() + 8 * stages; }
};

// Which of TMA's run-time conditions (below) the facts of `load`'s own operands settle:
// constants and the kernel's argument assumptions (axis_info.h).
struct TmaRuleFacts {
  bool baseAligned = false, rowStrideAligned = false, rowStridePositive = false, rowStrideSmall = false,
       unitColumnStride = false;
  bool all() const { return baseAligned && rowStrideAligned && rowStridePositive && rowStrideSmall && unitColumnStride; }
};
TmaRuleFacts tmaRuleFacts(tile::ir::LoadBlockOp load);
// Whether the facts settle TMA's rules for every TMA-capable (marked) load of `loop`: the loop
// is emitted in one version, with no cp.async fallback.
bool tmaRulesSettled(mlir::scf::ForOp loop);

// i1, uniform: TMA's run-time conditions hold for `load`, whose operands (valid before the
// loop) are `ptr` and `strides`: a 16-byte aligned base and row stride, a positive row
// stride below 2^40 bytes, unit column stride. The conditions the facts of load's own operands
// decide (constants, the kernel's argument assumptions: axis_info.h) are left out; a constant
// true when they decide all, and the caller then emits no fallback. Empty extents are TMA's
// too (TmaPipe::empty).
mlir::Value tmaUsable(KernelEmitter& e, mlir::Location loc, tile::ir::LoadBlockOp load, mlir::Value ptr,
                      llvm::ArrayRef<mlir::Value> strides);
// TmaPipe::empty of `load` with run-time extents `shape`.
mlir::Value tmaEmpty(KernelEmitter& e, mlir::Location loc, tile::ir::LoadBlockOp load, llvm::ArrayRef<mlir::Value> shape);
// Loops without a producer warpgroup (whose barriers are never initialised at the entry):
// builds the block's tensor map, and thread 0 acquires it and initialises the barriers. Callers
// emit one block-wide barrier after all their pipes' setups.
void emitTmaSetup(KernelEmitter& e, mlir::Location loc, TmaPipe& p, mlir::Value ptr, llvm::ArrayRef<mlir::Value> shape,
                  llvm::ArrayRef<mlir::Value> strides);
// The warp of threads [firstThread, firstThread + 32) builds the block's tensor map of `p` in
// its staging bytes and publishes it to the workspace (sets p.map). The producer warpgroup
// builds the maps of the loops it feeds itself, so that it need not wait for the consumers.
void emitTmaMapBuild(KernelEmitter& e, mlir::Location loc, TmaPipe& p, mlir::Value ptr,
                     llvm::ArrayRef<mlir::Value> shape, llvm::ArrayRef<mlir::Value> strides, int firstThread);
// Thread 0 initialises p's stage barriers (and fences the inits); a block barrier must follow.
void emitStageBarrierInit(KernelEmitter& e, mlir::Location loc, const TmaPipe& p);
// The i64 global address of this block's tensor map of `p` in the workspace.
mlir::Value tmaMapAddress(KernelEmitter& e, mlir::Location loc, const TmaPipe& p);
// The issuing thread's acquire of p.map (after the map was published).
void emitTmaAcquire(KernelEmitter& e, mlir::Location loc, const TmaPipe& p);
// The issuing thread (KernelEmitter::tmaIssuer): when `valid`, waits (if `refill`) for the empty phase of the stage's previous use
// `previousUse`, arms stage `slot`'s full barrier and issues the copies of the tile at `offsets`
// (row, column).
void emitTmaIssue(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot, llvm::ArrayRef<mlir::Value> offsets,
                  mlir::Value valid, mlir::Value refill = {}, mlir::Value previousUse = {});
// The calling threads: when `refill`, wait for the empty phase of use `previousUse` of stage `slot`.
void emitStageEmptyWait(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot, mlir::Value refill,
                        mlir::Value previousUse);
// The calling threads (the lanes that copied the rows riding in stage `slot`, with loads and
// shared stores): each arrives on the stage's full barrier after its stores, a release the
// consumers' wait acquires. A lane's load waits for its data; the stage's tile, issued
// before, lands meanwhile. (Copies by cp.async measured the same; racecheck's hazards under
// them were the one-lane hand-back's: emitTmaHandBack.)
void emitRowCopiesArrive(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot);
// TmaPipe::fullArrivals of the stage ring headed by `load`: 1 + kRowCopyLanes where rows ride
// in its stages and the producer warpgroup copies them, else 1.
int64_t fullArrivalsOf(mlir::Operation* load, bool byProducer);
// Every thread: waits until stage `slot`'s copy of use number `use` has landed.
void emitTmaWait(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot, mlir::Value use);
// Arrivals that complete a phase of an empty barrier: one per consumer warp, or one per
// consumer thread where p.rowsRide().
int64_t emptyArrivals(const KernelEmitter& e, const TmaPipe& p);
// Every consumer warp, done with stage `slot`: the arrivals emptyArrivals counts. One lane of a
// warp after a warp barrier (bar.warp.sync orders the lanes' reads before it, per the PTX ISA),
// or, where p.rowsRide(), each lane after its own reads: compute-sanitizer's racecheck credits
// only a thread's own arrival with ordering its ordinary shared loads before the producer's
// next stores into the stage (WAR hazards on the rows with one lane per warp, H100,
// bench/RESULTS.md 2026-12-07, midnight), as CUTLASS's consumer release arrives per thread.
void emitTmaHandBack(KernelEmitter& e, mlir::Location loc, const TmaPipe& p, mlir::Value slot);
// After the loop (a block-wide barrier first): thread 0 invalidates the barriers, so that the
// loop may initialise them again when it runs again; not p.atEntry ones (initialised once).
void emitTmaRelease(KernelEmitter& e, mlir::Location loc, const TmaPipe& p);
// At the kernel's entry, before the warp roles split: thread 0 initialises the barriers of
// every load in KernelEmitter::barriersAtEntry, then a fence and one block barrier that every
// thread reaches at the same instruction.
void emitEntryBarrierInit(KernelEmitter& e, mlir::Location loc);

}  // namespace tile::lowering
