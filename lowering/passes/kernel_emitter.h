// KernelEmitter: writes the per-thread body of one gpu.func from a laid-out tile kernel.
//
// Why a direct emitter and not MLIR's 1:N dialect conversion: every tile value becomes the list
// of scalars this thread owns (one per register of its layout), and the emitter keeps that
// mapping in a plain map while it walks the kernel once in program order, re-creating scf.for /
// scf.if with flattened iter_args / results. That is the same result the 1:N conversion
// framework would produce, without unrealized casts to clean up, and it lets the memory, reduce,
// convert and dot emitters share helpers (thread coordinates, shared memory) directly.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include "lowering/layout/linear_layout.h"
#include "lowering/passes/stage_rings.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace tile::lowering {

struct SmemTile;
struct DeferredFragments;

class KernelEmitter {
 public:
  // `prologue` is the op before which loop-invariant values (thread ids, coordinates) go.
  KernelEmitter(mlir::OpBuilder& b, mlir::Operation* prologue, mlir::Value tid, mlir::Value smem)
      : b(b), prologue_(prologue), tid_(tid), smem_(smem) {}

  mlir::LogicalResult emitBlock(mlir::Block& block);
  mlir::LogicalResult emitOp(mlir::Operation* op);
  int64_t smemBytes() const { return smemBytes_; }

  // ---- value mapping: a tile is the list of scalars this thread owns, a scalar is one value.
  void setRegs(mlir::Value v, llvm::SmallVector<mlir::Value> regs) { values_[v.getAsOpaquePointer()] = std::move(regs); }
  const llvm::SmallVector<mlir::Value>& regs(mlir::Value v) { return values_[v.getAsOpaquePointer()]; }
  mlir::Value scalar(mlir::Value v) { return regs(v).front(); }

  // ---- helpers shared by the op emitters.
  mlir::OpBuilder& b;
  mlir::Value i32(int64_t v);
  mlir::Value i64(int64_t v);
  mlir::Value lane();
  mlir::Value warp();
  // Coordinates of this thread's register 0 (i32 per dim), from lane and warp bits only; and
  // the part from warp bits only.
  llvm::SmallVector<mlir::Value> threadCoord(const LinearLayout& l);
  llvm::SmallVector<mlir::Value> warpCoord(const LinearLayout& l);
  // Full coordinates of register `r`.
  llvm::SmallVector<mlir::Value> elemCoord(const LinearLayout& l, int64_t r);
  // True in exactly one thread of each group holding replicated copies of the same elements.
  mlir::Value ownerPredicate(const LinearLayout& l);
  // Dynamic shared memory. [0, scratchBase) holds software-pipelining buffers; the scratch
  // area after it is shared by conversions and reductions (each use between barriers).
  // smemAt: `byteOffset` into the scratch area; smemAbsolute: from the start.
  mlir::Value smemAt(mlir::Value byteOffset);
  mlir::Value smemAbsolute(mlir::Value byteOffset);
  void useSmem(int64_t bytes) { smemBytes_ = std::max(smemBytes_, scratchBase_ + bytes); }
  void setScratchBase(int64_t bytes) { scratchBase_ = bytes, smemBytes_ = std::max(smemBytes_, bytes); }

  // Software pipelining (emit_pipeline.cc): loads whose data goes straight to shared memory,
  // and the shared tile a pipelined operand's convert_layout reads.
  llvm::DenseMap<mlir::Operation*, int64_t> pipelineOffset;  // load_block -> buffer offset
  // TMA-capable pipelined load_block -> its tensor-map staging and stage barriers (emit_tma.h),
  // in one region live over the whole kernel: an initialised mbarrier must not share bytes.
  llvm::DenseMap<mlir::Operation*, int64_t> tmaExtraOffset;
  // Pipelined loads whose stage barriers are initialised once at the kernel's entry, before
  // the warp roles split (producer-fed loops that run at most once): no role writes them
  // after that, so producer and consumers only ever meet them through mbarrier operations.
  llvm::SetVector<mlir::Operation*> barriersAtEntry;
  // Loads of sibling loops sharing one ring of stages (stage_rings.h): a member's buffers,
  // barriers and tensor map are its head's.
  StageRings rings;
  // Ring head -> the address of this thread's count of the ring's uses so far (an i32 local
  // variable of both roles, which LLVM keeps in a register): a producer-fed loop's stages and
  // barrier phases continue from it, and the loop adds its trip count to it.
  llvm::DenseMap<mlir::Operation*, mlir::Value> ringUses;
  // The tile kernel's arguments (re-read opaquely in each iteration of a loop over tiles).
  std::vector<mlir::Value> kernelArgs;
  mlir::Operation* ringHead(mlir::Operation* load) const { return rings.headOf(load); }
  // Ring heads (and loads of no shared ring) whose stage buffers no region used before their
  // loops: the producer may fill them without meeting the consumers first.
  llvm::DenseSet<mlir::Operation*> freshBuffers;
  std::optional<SmemTile> pipelinedSource(mlir::Operation* convert);
  llvm::DenseMap<mlir::Operation*, std::shared_ptr<SmemTile>> pipelineReads;
  // Dot operands staged in shared memory and read by the dot per k-step: the convert_layouts
  // with a region of their own (offset), and the staged tiles by converted value.
  llvm::DenseMap<mlir::Operation*, int64_t> deferredOffset;
  std::map<const void*, std::shared_ptr<DeferredFragments>> deferredFragments;
  // atomic_add_blocks lowered to bulk reduce-adds (emit_bulk_reduce.h) -> their staging
  // region's offset; when there are any, each thread waits for its reduces before it exits.
  llvm::DenseMap<mlir::Operation*, int64_t> bulkReduceOffset;
  // Staged conversions of loop-invariant operands inside a loop: staged once, before the loop
  // (convert -> that scf.for), not every iteration.
  llvm::DenseMap<mlir::Operation*, mlir::Operation*> hoistedStaging;
  // Hoisted conversions that read the region another one (the value) stores: no store of their own.
  llvm::DenseMap<mlir::Operation*, mlir::Operation*> stagingAlias;
  mlir::Value castIndexToI32(mlir::Value v);
  // TMA (emit_tma.cc): the hidden workspace argument as an i64 address, the number of tensor
  // maps of the kernel, and each TMA-capable pipelined load's number.
  mlir::Value tmaWorkspace;
  int tmaCount = 0;
  int numWarps = 0;
  bool warpgroupTurns = false;  // the kernel asked for them (tile.warpgroup_turns)
  // Warp specialisation (emit_producer.cc): `numWarps` consumer warps compute and a producer
  // warpgroup after them issues the copies of the pipelined loops whose loads are all on TMA.
  // `tmaIssuer` is the thread that issues TMA copies in the code being emitted;
  // `blockThreads` counts every thread of the block, the producer's included.
  bool warpSpecialized = false;
  int tmaIssuer = 0;
  int blockThreads = 0;
  bool skipReturn = false;  // the body is emitted inside a role's branch: no gpu.return there
  llvm::DenseSet<mlir::Operation*> producerLoops;    // loops whose copies the producer issues
  llvm::DenseSet<mlir::Operation*> producerScalars;  // scalar ops the producer computes
  llvm::DenseSet<mlir::Operation*> producerControl;  // scf.if / scf.for around its loops
  llvm::DenseMap<mlir::Operation*, int> tmaIndex;
  mlir::Value threadId() const { return tid_; }

  // Asynchronous wgmma groups (emit_wgmma.cc). A wgmma dot directly inside `deferDotsIn` (the
  // body of a pipelined loop) is committed without waiting: the wait comes just before the
  // first op that reads its result, waiting for no younger group, so the work between (the
  // next dot, a softmax) runs while the tensor cores do. `onComplete` runs right after its
  // wait (a stage the dot read goes back to its producer there).
  struct InflightDot {
    mlir::Operation* dot;
    std::vector<std::function<void()>> onComplete;
  };
  mlir::Operation* deferDotsIn = nullptr;
  std::vector<InflightDot> inflightDots;  // oldest first
  // Waits for the in-flight dots whose results `op` or an op nested in it reads (and the
  // older ones: groups complete in order).
  void settleDotsReadBy(mlir::Operation* op);
  void settleAllDots();

  // Thread values of one loop iteration (emitFor, and the pipelined loops of
  // emit_pipeline.cc): the thread id and the kernel arguments re-read opaquely there and the
  // coordinates derived from them, emitted at the iteration's start.
  struct ThreadScope {
    mlir::Operation* prologue;
    mlir::Value tid, lane, warp;
    std::map<std::string, llvm::SmallVector<mlir::Value>> coords;
    std::map<std::string, mlir::Value> preds;
    std::vector<mlir::Value> args;  // the kernel arguments' values outside the iteration
  };
  ThreadScope enterIterationScope(mlir::Location loc);
  void leaveIterationScope(ThreadScope saved);

 private:
  mlir::LogicalResult emitScalarOp(mlir::Operation* op);
  mlir::LogicalResult emitElementwise(mlir::Operation* op);
  // Integer add/sub of tiles, keeping base + constant registers in that form.
  mlir::LogicalResult emitOffsetArith(mlir::Operation* op, int64_t numRegs);
  mlir::LogicalResult emitFor(mlir::Operation* op);
  mlir::LogicalResult emitIf(mlir::Operation* op);
  mlir::Value threadPart(const LinearLayout& l, int dim, bool withLanes);

  mlir::Operation* prologue_;
  mlir::Value tid_, smem_, lane_, warp_;
  int64_t smemBytes_ = 0;
  int64_t scratchBase_ = 0;
  llvm::DenseMap<const void*, llvm::SmallVector<mlir::Value>> values_;
  std::map<std::string, llvm::SmallVector<mlir::Value>> coordCache_;
  std::map<std::string, mlir::Value> predCache_;
};

// Op emitters in their own files (memory, reductions, layout conversion, dot).
mlir::LogicalResult emitMemoryOp(KernelEmitter& e, mlir::Operation* op, bool& handled);
mlir::LogicalResult emitReduce(KernelEmitter& e, mlir::Operation* op);
mlir::LogicalResult emitConvertLayout(KernelEmitter& e, mlir::Operation* op);
mlir::LogicalResult emitDot(KernelEmitter& e, mlir::Operation* op);
// The Hopper path of a dot (emit_wgmma.cc); `handled` is false when the dot does not qualify
// (layout, operand not in a swizzled shared tile) and mma.sync is used instead.
mlir::LogicalResult emitWgmmaDot(KernelEmitter& e, mlir::Operation* op, bool& handled);
// A tile.dot wgmma can run: its accumulator has warps only along M (`warps` of them) and its
// shape passes wgmmaShape (default_layouts.h).
bool wgmmaDot(mlir::Operation* dot, unsigned& warps);
// fence.proxy.async.shared::cta: this thread's generic-proxy shared-memory writes become
// visible to async-proxy readers (wgmma) once a barrier follows.
void emitAsyncProxyFence(mlir::OpBuilder& b, mlir::Location loc);
// A scf.for whose loads carry tilegpu.pipeline (see pipeline_loops.cc); `handled` is false
// when there is nothing to pipeline.
mlir::LogicalResult emitPipelinedFor(KernelEmitter& e, mlir::Operation* forOp, bool& handled);
// Warp-specialised kernels (emit_producer.cc): whether the producer warpgroup can issue the
// copies of pipelined loop `forOp` (all of its pipelined loads are on TMA; planProducer keeps
// the loops it takes in KernelEmitter::producerLoops, the one record both roles read), and the producer's
// side of such a loop: the TMA version's copies, in the loop's order, one thread issuing them,
// each stage refilled once the consumers handed it back.
bool producerCanFeed(KernelEmitter& e, mlir::Operation* forOp);
mlir::LogicalResult emitProducerLoop(KernelEmitter& e, mlir::Operation* forOp);
// The producer warpgroup's code: the kernel's control flow down to those loops, the scalars
// their bounds and addresses need, and the loops' copies (emit_producer.cc). Fails with a
// reason in `why` when the producer cannot follow the kernel (a loop bound carried by a loop,
// a scalar computed from a tile).
mlir::LogicalResult planProducer(KernelEmitter& e, mlir::Block& body, std::string& why);
mlir::LogicalResult emitProducer(KernelEmitter& e, mlir::Block& body);
// The whole block's barrier in a warp-specialised kernel (producer and consumers meet).
void emitBlockBarrier(KernelEmitter& e, mlir::Location loc);
// Buffer bytes a pipelined load needs (all its stages).
int64_t pipelineBytes(mlir::Operation* load);
// Shared-memory bytes a convert_layout needs to stage a dot operand for per-k-step reads by
// the dot that follows it; 0 when it is not such a conversion.
int64_t deferredStagingBytes(mlir::Operation* convert);
// The tile a dot-operand conversion stages: its source, or the source of the trans it converts.
mlir::Value stagedSource(mlir::Operation* convert);
// Whether `convert` may read the staging region `owner` stores (same source tile, the same
// bytes seen directly or transposed).
bool stagingSharable(mlir::Operation* owner, mlir::Operation* convert);

// Small shared utilities.
mlir::Type llvmPtr(mlir::MLIRContext* ctx, unsigned addressSpace);
// Ordered tile register values (vector<2 x 16-bit> <-> i32) packing used by mma operands.
mlir::Value packPair(mlir::OpBuilder& b, mlir::Location loc, mlir::Value lo, mlir::Value hi, bool asI32);

}  // namespace tile::lowering
