// TMA copies for software-pipelined loads: see emit_tma.h; the PTX is in async_ptx.h.
#include "lowering/passes/emit_tma.h"

#include "lowering/passes/async_ptx.h"
#include "lowering/passes/axis_info.h"
#include "lowering/passes/memory_helpers.h"
#include "lowering/passes/smem_tile.h"
#include "lowering/passes/stage_rings.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {

namespace {

constexpr int64_t kMaxBoxRows = 256;  // TMA's largest box extent

SmemTile stageTile(ti::LoadBlockOp load) { return operandStageTile(load.getResult().getType().getShape()); }

// True when `v` is the same in every iteration of the loop around `load`.
bool invariant(scf::ForOp forOp, Value v) {
  if (!forOp->isAncestor(v.getParentBlock()->getParentOp())) return true;
  if (isa<BlockArgument>(v)) return false;
  Operation* def = v.getDefiningOp();
  if (def->getNumRegions()) return false;
  if (!isa<ti::AddPtrOp>(def) && def->getDialect()->getNamespace() != "arith") return false;
  return llvm::all_of(def->getOperands(), [&](Value o) { return invariant(forOp, o); });
}


Value toI64(OpBuilder& b, Location loc, Value v) {
  if (v.getType().isInteger(64)) return v;
  return b.create<arith::ExtSIOp>(loc, b.getI64Type(), v);
}

Value cmpI(OpBuilder& b, Location loc, arith::CmpIPredicate pred, Value x, Value y) {
  return b.create<arith::CmpIOp>(loc, pred, x, y);
}

// Linear number of this block in the grid (i64).
Value blockNumber(KernelEmitter& e, Location loc) {
  OpBuilder& b = e.b;
  auto id = [&](mlir::gpu::Dimension d) {
    return b.create<arith::IndexCastOp>(loc, b.getI64Type(), b.create<mlir::gpu::BlockIdOp>(loc, d)).getResult();
  };
  auto dim = [&](mlir::gpu::Dimension d) {
    return b.create<arith::IndexCastOp>(loc, b.getI64Type(), b.create<mlir::gpu::GridDimOp>(loc, d)).getResult();
  };
  using D = mlir::gpu::Dimension;
  Value yz = b.create<arith::AddIOp>(loc, id(D::y), b.create<arith::MulIOp>(loc, dim(D::y), id(D::z)));
  return b.create<arith::AddIOp>(loc, id(D::x), b.create<arith::MulIOp>(loc, dim(D::x), yz));
}

// The global side of a 16-bit tile's tensor map: base address and row stride in bytes.
std::pair<Value, Value> globalSide(KernelEmitter& e, Location loc, Value ptr, ArrayRef<Value> strides) {
  OpBuilder& b = e.b;
  Value base = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), ptr);
  return {base, b.create<arith::MulIOp>(loc, toI64(b, loc, strides[0]), e.i64(2))};
}

// Thread 0: per stage of `p`, one "full" barrier (p.fullArrivals) and, with p.handBack, one
// "empty" barrier (emptyArrivals).
void initStageBarriers(KernelEmitter& e, Location loc, const TmaPipe& p) {
  for (int64_t s = 0; s < p.stages; ++s) {
    inlineAsm(e.b, loc, ptx::kMbarrierInit, "r,r", {sharedAddress(e, loc, p.fullOffset() + 8 * s), e.i32(p.fullArrivals)});
    if (p.handBack)
      inlineAsm(e.b, loc, ptx::kMbarrierInit, "r,r",
                {sharedAddress(e, loc, p.emptyOffset() + 8 * s), e.i32(emptyArrivals(e, p))});
  }
}

}  // namespace

bool tmaCapable(ti::LoadBlockOp load) {
  if (!load->hasAttr("tilegpu.pipeline")) return false;
  auto type = load.getResult().getType();
  if (type.getRank() != 2 || !(type.getElementType().isBF16() || type.getElementType().isF16())) return false;
  SmemTile tile = stageTile(load);
  if (!tile.swizzled || tile.rows > kMaxBoxRows) return false;
  auto forOp = dyn_cast<scf::ForOp>(load->getParentOp());
  if (!forOp) return false;
  if (!invariant(forOp, load.getPtr())) return false;
  for (Value v : load.getShape())
    if (!invariant(forOp, v)) return false;
  for (Value v : load.getStrides())
    if (!invariant(forOp, v)) return false;
  return true;
}

int64_t tmaExtraBytes(ti::LoadBlockOp load, int64_t stages) {
  return tmaCapable(load) ? ptx::kTensorMapBytes + 16 * stages : 0;
}

TmaRuleFacts tmaRuleFacts(ti::LoadBlockOp load) {
  constexpr int64_t elemBytes = 2;
  Value rowStride = load.getStrides()[0];
  TmaRuleFacts f;
  f.baseAligned = knownAlignment(load.getPtr()) % 16 == 0;
  f.rowStrideAligned = knownDivisor(rowStride) * elemBytes % 16 == 0;
  f.rowStridePositive = knownPositive(rowStride);
  f.rowStrideSmall = rowStride.getType().isInteger(32);  // an i32 stride of 2-byte elements is below 2^40 bytes
  f.unitColumnStride = knownEqual(load.getStrides()[1], 1);
  return f;
}

bool tmaRulesSettled(scf::ForOp loop) {
  for (auto load : loop.getBody()->getOps<ti::LoadBlockOp>())
    if (tmaCapable(load) && !tmaRuleFacts(load).all()) return false;
  return true;
}

Value tmaUsable(KernelEmitter& e, Location loc, ti::LoadBlockOp load, Value ptr, ArrayRef<Value> strides) {
  OpBuilder& b = e.b;
  using P = arith::CmpIPredicate;
  auto [base, rowStrideBytes] = globalSide(e, loc, ptr, strides);
  auto zeroLow4 = [&](Value v) {
    return cmpI(b, loc, P::eq, b.create<arith::AndIOp>(loc, v, e.i64(15)), e.i64(0));
  };
  Value ok;
  auto need = [&](Value cond) { ok = andAll(b, loc, ok, cond); };
  const TmaRuleFacts facts = tmaRuleFacts(load);
  if (!facts.baseAligned) need(zeroLow4(base));
  if (!facts.rowStrideAligned) need(zeroLow4(rowStrideBytes));
  if (!facts.rowStridePositive) need(cmpI(b, loc, P::sgt, rowStrideBytes, e.i64(0)));
  if (!facts.rowStrideSmall) need(cmpI(b, loc, P::slt, rowStrideBytes, e.i64(int64_t(1) << 40)));
  if (!facts.unitColumnStride) need(cmpI(b, loc, P::eq, toI64(b, loc, strides[1]), e.i64(1)));
  return ok ? ok : b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 1).getResult();
}

Value tmaEmpty(KernelEmitter& e, Location loc, ti::LoadBlockOp load, ArrayRef<Value> shape) {
  Value empty;
  for (auto [ir, v] : llvm::zip(load.getShape(), shape)) {
    if (knownPositive(ir)) continue;
    Value le = cmpI(e.b, loc, arith::CmpIPredicate::sle, v, e.i32(0));
    empty = empty ? e.b.create<arith::OrIOp>(loc, empty, le).getResult() : le;
  }
  return empty;
}

Value tmaMapAddress(KernelEmitter& e, Location loc, const TmaPipe& p) {
  OpBuilder& b = e.b;
  // This block's slot in the workspace: after the templates, N maps per block.
  Value slotNumber = b.create<arith::AddIOp>(
      loc, b.create<arith::MulIOp>(loc, b.create<arith::AddIOp>(loc, blockNumber(e, loc), e.i64(1)), e.i64(e.tmaCount)),
      e.i64(p.index));
  return b.create<arith::AddIOp>(loc, e.tmaWorkspace, b.create<arith::MulIOp>(loc, slotNumber, e.i64(ptx::kTensorMapBytes)));
}

void emitTmaAcquire(KernelEmitter& e, Location loc, const TmaPipe& p) {
  inlineAsm(e.b, loc, ptx::kTensorMapAcquire, "l", {p.map});
}

void emitTmaMapBuild(KernelEmitter& e, Location loc, TmaPipe& p, Value ptr, ArrayRef<Value> shape,
                     ArrayRef<Value> strides, int firstThread) {
  OpBuilder& b = e.b;
  using P = arith::CmpIPredicate;
  auto [base, rowStrideBytes] = globalSide(e, loc, ptr, strides);
  p.map = tmaMapAddress(e, loc, p);
  Value lane = firstThread ? b.create<arith::SubIOp>(loc, e.threadId(), e.i32(firstThread)).getResult() : e.threadId();
  Value map = p.map;
  when(b, loc, cmpI(b, loc, P::ult, lane, e.i32(32)), [&] {
    Value staged = sharedAddress(e, loc, p.mapOffset());
    // The template, 4 bytes per lane; then lane 0 writes this block's base, extents (innermost
    // first) and row stride.
    Value tmpl = b.create<arith::AddIOp>(loc, e.tmaWorkspace, e.i64(int64_t(p.index) * ptx::kTensorMapBytes));
    Value src = b.create<LLVM::IntToPtrOp>(loc, llvmPtr(b.getContext(), 1), tmpl);
    Value word = b.create<LLVM::LoadOp>(loc, b.getI32Type(), elemPtr(b, loc, src, b.getI32Type(), lane), 4);
    b.create<LLVM::StoreOp>(loc, word, e.smemAbsolute(b.create<arith::AddIOp>(loc, e.i32(p.mapOffset()), b.create<arith::MulIOp>(loc, lane, e.i32(4)))), 4);
    inlineAsm(b, loc, ptx::kWarpSync, "", {});
    when(b, loc, cmpI(b, loc, P::eq, lane, e.i32(0)), [&] {
      inlineAsm(b, loc, ptx::kTensorMapSetAddress, "r,l", {staged, base});
      // At least 1 (TMA's rule); an empty tensor's copies are placed out of bounds instead.
      auto extent = [&](Value v) { return b.create<arith::MaxSIOp>(loc, v, e.i32(1)).getResult(); };
      inlineAsm(b, loc, ptx::kTensorMapSetDim0, "r,r", {staged, extent(shape[1])});
      inlineAsm(b, loc, ptx::kTensorMapSetDim1, "r,r", {staged, extent(shape[0])});
      inlineAsm(b, loc, ptx::kTensorMapSetStride0, "r,l", {staged, rowStrideBytes});
    });
    inlineAsm(b, loc, ptx::kWarpSync, "", {});
    inlineAsm(b, loc, ptx::kTensorMapPublish, "l,r", {map, staged});
  });
}

void emitStageBarrierInit(KernelEmitter& e, Location loc, const TmaPipe& p) {
  when(e.b, loc, cmpI(e.b, loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(0)), [&] {
    initStageBarriers(e, loc, p);
    inlineAsm(e.b, loc, ptx::kMbarrierInitFence, "", {});
  });
}

void emitTmaSetup(KernelEmitter& e, Location loc, TmaPipe& p, Value ptr, ArrayRef<Value> shape, ArrayRef<Value> strides) {
  OpBuilder& b = e.b;
  emitTmaMapBuild(e, loc, p, ptr, shape, strides, /*firstThread=*/0);
  when(b, loc, cmpI(b, loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(0)), [&] {
    emitTmaAcquire(e, loc, p);
    initStageBarriers(e, loc, p);
    inlineAsm(b, loc, ptx::kMbarrierInitFence, "", {});
  });
}

void emitEntryBarrierInit(KernelEmitter& e, Location loc) {
  if (e.barriersAtEntry.empty()) return;
  OpBuilder& b = e.b;
  when(b, loc, cmpI(b, loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(0)), [&] {
    for (Operation* op : e.barriersAtEntry) {
      // The layout the loop's own TmaPipe has; producer-fed loops hand stages back.
      TmaPipe p;
      p.extra = e.tmaExtraOffset.lookup(op);
      p.stages = op->getAttrOfType<IntegerAttr>("tilegpu.pipeline").getInt();
      p.handBack = true;
      p.fullArrivals = fullArrivalsOf(op, /*byProducer=*/true);
      initStageBarriers(e, loc, p);
    }
    inlineAsm(b, loc, ptx::kMbarrierInitFence, "", {});
  });
  // Every thread at this one instruction: the roles split after it.
  b.create<mlir::gpu::BarrierOp>(loc);
}

namespace {
Value stageBarrier(KernelEmitter& e, Location loc, int64_t first, Value slot) {
  return sharedAddress(e, loc, e.b.create<arith::AddIOp>(loc, e.i32(first), e.b.create<arith::MulIOp>(loc, slot, e.i32(8))));
}
}  // namespace

void emitStageEmptyWait(KernelEmitter& e, Location loc, const TmaPipe& p, Value slot, Value refill, Value previousUse) {
  OpBuilder& b = e.b;
  when(b, loc, refill, [&] {
    Value parity = b.create<arith::AndIOp>(loc, previousUse, e.i32(1));
    inlineAsm(b, loc, ptx::kMbarrierWaitParity, "r,r", {stageBarrier(e, loc, p.emptyOffset(), slot), parity});
  });
}

void emitRowCopiesArrive(KernelEmitter& e, Location loc, const TmaPipe& p, Value slot) {
  inlineAsm(e.b, loc, ptx::kMbarrierArrive, "r", {stageBarrier(e, loc, p.fullOffset(), slot)});
}

int64_t fullArrivalsOf(Operation* load, bool byProducer) {
  return byProducer && load->hasAttr(kStageEndAttr) ? 1 + kRowCopyLanes : 1;
}

void emitTmaIssue(KernelEmitter& e, Location loc, const TmaPipe& p, Value slot, ArrayRef<Value> offsets, Value valid,
                  Value refill, Value previousUse) {
  OpBuilder& b = e.b;
  SmemTile tile = stageTile(p.load);
  const int64_t colsPerChunk = ptx::kTmaBoxBytes / 2;
  const int64_t chunks = tile.cols / colsPerChunk;
  Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(e.tmaIssuer));
  when(b, loc, b.create<arith::AndIOp>(loc, first, valid), [&] {
    if (refill) emitStageEmptyWait(e, loc, p, slot, refill, previousUse);
    Value barrier = stageBarrier(e, loc, p.fullOffset(), slot);
    inlineAsm(b, loc, ptx::kMbarrierArriveExpectTx, "r,r", {barrier, e.i32(tile.rows * tile.cols * 2)});
    Value stage = b.create<arith::AddIOp>(loc, e.i32(p.buffers), b.create<arith::MulIOp>(loc, slot, e.i32(p.stageBytes)));
    // An empty tensor's box goes wholly above row 0: out of bounds, filled with zeros.
    Value row = p.empty ? b.create<arith::SelectOp>(loc, p.empty, e.i32(-tile.rows), offsets[0]).getResult() : offsets[0];
    for (int64_t c = 0; c < chunks; ++c) {
      Value dst = sharedAddress(e, loc, b.create<arith::AddIOp>(loc, stage, e.i32(c * tile.chunkBytes())));
      Value col = b.create<arith::AddIOp>(loc, offsets[1], e.i32(c * colsPerChunk));
      inlineAsm(b, loc, ptx::kTmaLoad2d, "r,l,r,r,r", {dst, p.map, col, row, barrier});
    }
  });
}

void emitTmaWait(KernelEmitter& e, Location loc, const TmaPipe& p, Value slot, Value use) {
  OpBuilder& b = e.b;
  Value parity = b.create<arith::AndIOp>(loc, use, e.i32(1));
  inlineAsm(b, loc, ptx::kMbarrierWaitParity, "r,r", {stageBarrier(e, loc, p.fullOffset(), slot), parity});
}

int64_t emptyArrivals(const KernelEmitter& e, const TmaPipe& p) { return p.rowsRide() ? e.numWarps * 32 : e.numWarps; }

void emitTmaHandBack(KernelEmitter& e, Location loc, const TmaPipe& p, Value slot) {
  OpBuilder& b = e.b;
  // The warp's reads of the stage are done (ldmatrix and row results are in registers, wgmma
  // reads completed at its wait_group).
  if (p.rowsRide()) {
    inlineAsm(b, loc, ptx::kMbarrierArrive, "r", {stageBarrier(e, loc, p.emptyOffset(), slot)});
    return;
  }
  // One lane arrives for the whole warp.
  inlineAsm(b, loc, ptx::kWarpSync, "", {});
  when(b, loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e.lane(), e.i32(0)),
       [&] { inlineAsm(b, loc, ptx::kMbarrierArrive, "r", {stageBarrier(e, loc, p.emptyOffset(), slot)}); });
}

void emitTmaRelease(KernelEmitter& e, Location loc, const TmaPipe& p) {
  if (p.atEntry) return;
  OpBuilder& b = e.b;
  Value first = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(0));
  when(b, loc, first, [&] {
    for (int64_t s = 0; s < p.stages; ++s) {
      inlineAsm(b, loc, ptx::kMbarrierInval, "r", {sharedAddress(e, loc, p.fullOffset() + 8 * s)});
      if (p.handBack) inlineAsm(b, loc, ptx::kMbarrierInval, "r", {sharedAddress(e, loc, p.emptyOffset() + 8 * s)});
    }
  });
}

}  // namespace tile::lowering
