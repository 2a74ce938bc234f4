// Software pipelining of dot operands (loads marked by tile-pipeline-loops).
//
// For a loop with S stages, each marked load gets S shared-memory buffers. The prologue issues
// the cp.async copies of iterations 0..S-2; iteration i waits until its own copy has landed
// (cp.async.wait_group S-2, then a barrier so every thread's copies are visible and every
// thread is done with iteration i-1), issues the copy of iteration i+S-1 into the buffer
// iteration i-1 used, and its dot reads operand fragments from buffer i % S with ldmatrix.
// Address operands of future iterations are recomputed from the induction variable and from
// scalar iter_args advanced ahead of the loop (extra loop-carried values). Out-of-bounds
// elements are zero-filled (cp.async src-size 0); when 16-byte copies are not possible (the
// run-time alignment test fails) the same buffer is filled with ordinary loads and stores.
//
// Loads that qualify for TMA (emit_tma.h) are copied by the bulk tensor copy engine instead,
// completing on one mbarrier per stage that every thread waits on before the iteration's
// barrier; cp.async remains their fallback when TMA's run-time conditions fail.
#include <optional>

#include "dsl/ir/TileDialect.h"
#include "llvm/Support/MathExtras.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/passes/async_ptx.h"
#include "lowering/passes/emit_tma.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/memory_helpers.h"
#include "lowering/passes/pipeline_uses.h"
#include "lowering/passes/smem_tile.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
namespace ti = tile::ir;
namespace tg = tile::gpu;
namespace ptx = tile::lowering::ptx;

namespace tile::lowering {

namespace {

constexpr const char* kPipelineAttr = "tilegpu.pipeline";

// Buffers hold the tile swizzled when it can be (operandStageTile), 1024-byte aligned so that
// wgmma can read them through a descriptor.
SmemTile bufferTile(ArrayRef<int64_t> shape, int fast) { return operandStageTile(shape, fast); }

// A pipelined row's stage: its elements in order (4 bytes each: pipelinedRow).
SmemTile rowTile(ti::LoadBlockOp load) { return rowStageTile(load.getResult().getType().getShape()); }

int64_t stageBytes(ti::LoadBlockOp load) {
  if (pipelinedRow(load)) return int64_t(llvm::alignTo(uint64_t(rowTile(load).bytes), 16));
  int64_t bytes = bufferTile(load.getResult().getType().getShape(), 1).bytes;
  if (auto end = load->getAttrOfType<IntegerAttr>(kStageEndAttr)) bytes = end.getInt();  // rows riding in it
  return int64_t(llvm::alignTo(uint64_t(bytes), kSmemOperandAlign));
}

struct Piped {
  ti::LoadBlockOp load;
  SmallVector<PipelineUse> uses;  // the dot operands read from its stages
  LinearLayout layout;
  int64_t offset = 0, stage = 0, vec = 0;
  std::optional<TmaPipe> tma;  // set when the load may be copied by TMA
  bool row = false;            // a pipelined row (pipelinedRow): no dot uses, read by the load op
  // A row riding in another pipe's stages (stage_rings.h): that pipe's index (its offset is
  // then inside that pipe's stage 0 and `stage` is that pipe's); and a carrier's riders.
  int carrier = -1;
  SmallVector<int> riders;
  // Uses of the load's ring before this loop's first (a ring shared by sibling loops), null
  // for none; and, in the loop body, this iteration's stage and use number of the ring.
  Value base, slot, use;
};

bool outside(scf::ForOp forOp, Value v) {
  Operation* parent = v.getParentBlock()->getParentOp();
  return parent != forOp.getOperation() && !forOp->isProperAncestor(parent);
}

// Emits the value `v` has in the iteration whose induction variable and scalar iter_args
// `m` maps (loop invariants come from the emitter). `valid` (null: always) says whether that
// iteration runs: a scalar load on the way (a block index read from a list) is issued only
// then, and reads 0 otherwise, so that copies issued ahead never read past a list's end.
Value evalAhead(KernelEmitter& e, scf::ForOp forOp, Value v, IRMapping& m, Value valid = {}) {
  if (m.contains(v)) return m.lookup(v);
  if (outside(forOp, v)) return e.scalar(v);
  Operation* def = v.getDefiningOp();
  Location loc = def->getLoc();
  Value out;
  if (auto ap = dyn_cast<ti::AddPtrOp>(def)) {
    Type elem = cast<ti::PtrType>(ap.getPtr().getType()).getPointee();
    out = elemPtr(e.b, loc, evalAhead(e, forOp, ap.getPtr(), m, valid), elem, evalAhead(e, forOp, ap.getOffset(), m, valid));
  } else if (auto ls = dyn_cast<ti::LoadScalarOp>(def)) {
    Type elem = ls.getResult().getType();
    Value addr = elemPtr(e.b, loc, evalAhead(e, forOp, ls.getPtr(), m, valid), elem,
                         evalAhead(e, forOp, ls.getIndex(), m, valid));
    Value zero = e.b.create<arith::ConstantOp>(loc, scalarAttr(elem, 0));
    out = maskedLoad(e.b, loc, elem, addr, valid, zero, elem.getIntOrFloatBitWidth() / 8);
  } else {
    IRMapping local;
    for (Value operand : def->getOperands()) local.map(operand, evalAhead(e, forOp, operand, m, valid));
    out = e.b.clone(*def, local)->getResult(0);
  }
  m.map(v, out);
  return out;
}

// Scalar iter_args the address computations of `v` depend on (through their updates too).
void neededIterArgs(scf::ForOp forOp, Value v, std::set<unsigned>& out, DenseSet<Value>& seen) {
  if (outside(forOp, v) || !seen.insert(v).second || v == forOp.getInductionVar()) return;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    unsigned idx = arg.getArgNumber() - 1;
    out.insert(idx);
    neededIterArgs(forOp, forOp.getBody()->getTerminator()->getOperand(idx), out, seen);
    return;
  }
  for (Value operand : v.getDefiningOp()->getOperands()) neededIterArgs(forOp, operand, out, seen);
}

// Fills one buffer of `p` with the tile of the iteration `m` describes (zeros where it is out
// of bounds or `valid` is false).
void issueCopy(KernelEmitter& e, scf::ForOp forOp, Piped p, IRMapping& m, Value bufferOffset, Value valid) {
  OpBuilder& b = e.b;
  Location loc = p.load.getLoc();
  BlockAccess acc{e, loc, evalAhead(e, forOp, p.load.getPtr(), m, valid), {}, {}, {}, p.load.getResult().getType().getElementType(), p.layout, {}};
  for (Value v : p.load.getShape()) acc.shape.push_back(evalAhead(e, forOp, v, m, valid));
  for (Value v : p.load.getStrides()) acc.strides.push_back(evalAhead(e, forOp, v, m, valid));
  for (Value v : p.load.getOffsets()) acc.offsets.push_back(evalAhead(e, forOp, v, m, valid));
  acc.setSource(p.load);
  SmemTile tile = bufferTile(p.load.getResult().getType().getShape(), 1);
  auto dst = [&](int64_t r) {
    return e.smemAbsolute(b.create<arith::AddIOp>(loc, bufferOffset, tile.byteOffset(e, loc, e.elemCoord(p.layout, r))));
  };
  int64_t bytes = p.vec * 2;
  auto async = [&] {
    acc.terms.clear();
    for (int64_t r = 0; r < p.layout.numRegs(); r += p.vec) {
      auto [inb, src] = acc.at(r);
      Value ok = b.create<arith::AndIOp>(loc, inb, valid);
      Value size = b.create<arith::SelectOp>(loc, ok, e.i32(bytes), e.i32(0));
      b.create<NVVM::CpAsyncOp>(loc, dst(r), src, uint32_t(bytes),
                                bytes == 16 ? NVVM::LoadCacheModifierKind::CG : NVVM::LoadCacheModifierKind::CA, size);
    }
    return SmallVector<Value>{};
  };
  auto sync = [&] {
    acc.terms.clear();
    Type elem = acc.elem;
    Value zero = b.create<arith::ConstantOp>(loc, scalarAttr(elem, 0));
    for (int64_t r = 0; r < p.layout.numRegs(); ++r) {
      auto [inb, src] = acc.at(r);
      Value v = maskedLoad(b, loc, elem, src, b.create<arith::AndIOp>(loc, inb, valid), zero, 2);
      b.create<LLVM::StoreOp>(loc, v, dst(r), 2);
    }
    return SmallVector<Value>{};
  };
  acc.terms.clear();
  ifElse(b, loc, {}, acc.vectorOk(p.vec), async, sync);
}

// Fills one stage of a pipelined row: of `threads` threads, the one numbered `self` copies
// element self (self + threads, ... for longer rows) with a 4-byte cp.async, zero-filled out
// of bounds or when `valid` is false. One copy per element: the row's layout replicates
// elements over threads, its copies do not. `synchronous`: a load and a shared store instead
// of the cp.async (the producer's riding rows: see emitRowCopiesArrive).
void issueRowCopy(KernelEmitter& e, scf::ForOp forOp, Piped& p, IRMapping& m, Value bufferOffset, Value valid,
                  Value self, int64_t threads, bool synchronous = false) {
  OpBuilder& b = e.b;
  Location loc = p.load.getLoc();
  using P = arith::CmpIPredicate;
  Type elem = p.load.getResult().getType().getElementType();
  const int64_t n = p.load.getResult().getType().getShape()[0];
  Value ptr = evalAhead(e, forOp, p.load.getPtr(), m, valid);
  Value extent = evalAhead(e, forOp, p.load.getShape()[0], m, valid);
  Value stride = b.create<arith::ExtSIOp>(loc, b.getI64Type(), evalAhead(e, forOp, p.load.getStrides()[0], m, valid));
  Value offset = evalAhead(e, forOp, p.load.getOffsets()[0], m, valid);
  for (int64_t first = 0; first < n; first += threads) {
    Value i = first ? b.create<arith::AddIOp>(loc, self, e.i32(first)).getResult() : self;
    when(b, loc, b.create<arith::CmpIOp>(loc, P::ult, i, e.i32(n)), [&] {
      Value g = b.create<arith::AddIOp>(loc, offset, i);
      Value ok = b.create<arith::AndIOp>(loc, b.create<arith::CmpIOp>(loc, P::ult, g, extent), valid);
      Value idx = b.create<arith::MulIOp>(loc, b.create<arith::ExtSIOp>(loc, b.getI64Type(), g), stride);
      Value dst = e.smemAbsolute(b.create<arith::AddIOp>(loc, bufferOffset, b.create<arith::MulIOp>(loc, i, e.i32(4))));
      if (synchronous) {
        Value zero = b.create<arith::ConstantOp>(loc, scalarAttr(elem, 0.0));
        b.create<LLVM::StoreOp>(loc, maskedLoad(b, loc, elem, elemPtr(b, loc, ptr, elem, idx), ok, zero, 4), dst, 4);
        return;
      }
      Value size = b.create<arith::SelectOp>(loc, ok, e.i32(4), e.i32(0));
      b.create<NVVM::CpAsyncOp>(loc, dst, elemPtr(b, loc, ptr, elem, idx), 4u, NVVM::LoadCacheModifierKind::CA, size);
    });
  }
}

// A pipelined row's registers, read from the stage at `slotBase` where its load op stands.
void emitRowRead(KernelEmitter& e, Piped& p, Value slotBase) {
  SmemTile t = rowTile(p.load);
  t.slotBase = slotBase;
  e.setRegs(p.load.getResult(), loadTile(e, p.load.getLoc(), p.layout, t, p.load.getResult().getType().getElementType()));
}

// Fills stage `slot` of `p` for the iteration `m` describes: by TMA in the loop's TMA version
// (`tma`), else with cp.async / plain copies. `refill`/`previousUse`: see emitTmaIssue.
void issueStage(KernelEmitter& e, scf::ForOp forOp, Piped& p, IRMapping& m, Value slot, Value valid, bool tma,
                Value refill = {}, Value previousUse = {}) {
  OpBuilder& b = e.b;
  Location loc = p.load.getLoc();
  if (tma && p.tma) {
    SmallVector<Value> offsets;
    for (Value v : p.load.getOffsets()) offsets.push_back(evalAhead(e, forOp, v, m, valid));
    emitTmaIssue(e, loc, *p.tma, slot, offsets, valid, refill, previousUse);
    return;
  }
  Value buf = b.create<arith::AddIOp>(loc, e.i32(p.offset), b.create<arith::MulIOp>(loc, slot, e.i32(p.stage)));
  if (p.row) return issueRowCopy(e, forOp, p, m, buf, valid, e.threadId(), e.blockThreads);
  issueCopy(e, forOp, p, m, buf, valid);
}

// Warpgroup turns, when the kernel asks for them (tile.warpgroup_turns). In a loop whose
// stages go back through empty barriers, with two or more wgmma dots in
// its body and two or more warpgroups, the warpgroups take turns at the body's dots: group g
// waits on barrier first+g before its first dot and, once its last dot is issued, lets group
// g+1 (cyclically) go. While one warpgroup's dots occupy the tensor cores, the others run their
// softmax (FlashAttention-3's ping-pong). Group n-1 lets group 0 go once before the loop and
// group 0 takes that last permission after it, so every barrier generation completes.
struct Turns {
  Operation *first = nullptr, *last = nullptr;  // the body's first and last ops holding a wgmma dot
  int groups = 0;
};

Turns turnsOf(KernelEmitter& e, scf::ForOp forOp) {
  Turns t;
  if (!e.warpgroupTurns || e.numWarps < 8 || e.numWarps % 4) return t;
  int dots = 0;
  for (Operation& op : forOp.getBody()->without_terminator()) {
    bool holds = false;
    op.walk([&](ti::DotOp dot) {
      unsigned warps = 0;
      if (wgmmaDot(dot, warps)) holds = true, ++dots;
    });
    if (!holds) continue;
    if (!t.first) t.first = &op;
    t.last = &op;
  }
  if (dots < 2) return Turns{};
  t.groups = e.numWarps / 4;
  return t;
}

// Emits a named barrier instruction over two warpgroups and returns it.
Operation* namedBarrier(KernelEmitter& e, Location loc, const char* text, Value id) {
  inlineAsm(e.b, loc, text, "r,r", {id, e.i32(256)});
  return &*std::prev(e.b.getInsertionPoint());
}

// The turn instructions emitted for one loop: group n-1's first permission before it, each
// group's wait and hand-over in its body, group 0's last wait after it.
struct TurnOps {
  Operation *prime = nullptr, *wait = nullptr, *pass = nullptr, *last = nullptr;

  // Takes the loop's turns out again: each instruction, and the scf.if that guarded it alone.
  void erase() {
    for (Operation* op : {prime, wait, pass, last}) {
      if (!op) continue;
      auto guard = dyn_cast<scf::IfOp>(op->getParentOp());
      op->erase();
      if (guard && guard.getResults().empty() && guard.thenBlock()->without_terminator().empty()) guard->erase();
    }
  }
};

bool isBlockBarrier(Operation* op) {
  if (isa<mlir::gpu::BarrierOp>(op)) return true;
  auto asmOp = dyn_cast<LLVM::InlineAsmOp>(op);
  return asmOp && (asmOp.getAsmString().starts_with("bar.sync") || asmOp.getAsmString().starts_with("barrier.sync"));
}

// Whether the ops between a group's wait for its turn and its hand-over hold a barrier of the
// whole block (or of all consumers). A group in its turn would wait there for the other groups,
// which wait for their turn: a deadlock. Such a barrier comes from what the body computes
// between its dots (a layout conversion or a reduction across warps through shared memory, as
// a score modification may need); the loop then runs without turns.
bool barrierInTurn(const TurnOps& t) {
  if (!t.wait || !t.pass || t.wait->getBlock() != t.pass->getBlock()) return true;
  for (Operation* op = t.wait->getNextNode(); op && op != t.pass; op = op->getNextNode()) {
    bool found = false;
    op->walk([&](Operation* inner) { found = found || isBlockBarrier(inner); });
    if (found) return true;
  }
  return false;
}

// The first and the last op of the loop body (top level) that read `p`'s stage buffer: the
// first one holding a dot-operand conversion of it and the last one holding a user of such a
// conversion (a dot; its wgmma has completed when the op's emission ends).
std::pair<Operation*, Operation*> readerSpan(scf::ForOp forOp, Piped& p) {
  Block* body = forOp.getBody();
  Operation *first = nullptr, *last = nullptr;
  for (PipelineUse use : p.uses) {
    Operation* top = body->findAncestorOpInBlock(*use.convert);
    if (!first || top->isBeforeInBlock(first)) first = top;
    if (!last || last->isBeforeInBlock(top)) last = top;
    for (Operation* user : use.convert.getResult().getUsers())
      if (Operation* u = body->findAncestorOpInBlock(*user); u && last->isBeforeInBlock(u)) last = u;
  }
  return {first, last};
}

}  // namespace

int64_t pipelineBytes(Operation* load) {
  auto lb = cast<ti::LoadBlockOp>(load);
  int64_t stages = load->getAttrOfType<IntegerAttr>(kPipelineAttr).getInt();
  return stages * stageBytes(lb);
}

namespace {

// The pipelined loads of `forOp` and its stage count (no loads: nothing to pipeline).
LogicalResult collectPipes(KernelEmitter& e, scf::ForOp forOp, std::vector<Piped>& pipes, int64_t& S) {
  for (auto load : forOp.getBody()->getOps<ti::LoadBlockOp>()) {
    auto attr = load->getAttrOfType<IntegerAttr>(kPipelineAttr);
    auto it = e.pipelineOffset.find(load);
    if (!attr || it == e.pipelineOffset.end()) continue;
    Piped p;
    p.load = load;
    p.row = pipelinedRow(load);
    if (!p.row) p.uses = pipelinedConsumers(load);
    if (!p.row && p.uses.empty()) return load->emitOpError("pipelined load lost its dot-operand consumers");
    std::string why;
    auto l = layoutOf(load.getResult().getType(), &why);
    if (failed(l)) return load->emitOpError(why);
    p.layout = *l;
    p.offset = it->second;
    p.stage = stageBytes(load);
    p.vec = std::min<int64_t>(contiguityAlong(*l, 1), 8);
    S = attr.getInt();
    if (auto t = e.tmaIndex.find(load); t != e.tmaIndex.end()) {
      p.tma = TmaPipe{load, t->second, p.offset, p.stage, S, false, Value()};
      p.tma->extra = e.tmaExtraOffset.lookup(load);
      p.tma->atEntry = e.barriersAtEntry.count(e.ringHead(load)) > 0;
      p.tma->fullArrivals = fullArrivalsOf(load, /*byProducer=*/p.tma->atEntry);
    }
    pipes.push_back(p);
  }
  for (auto [i, p] : llvm::enumerate(pipes)) {
    Operation* carrier = rowCarrier(p.load);
    if (!carrier) continue;
    auto c = llvm::find_if(pipes, [&](Piped& q) { return q.load.getOperation() == carrier; });
    if (c == pipes.end() || !c->tma) return p.load->emitOpError("pipelined row without its carrier's TMA stages");
    p.carrier = int(c - pipes.begin());
    p.stage = c->stage;
    c->riders.push_back(int(i));
  }
  return success();
}

// The scalar iter_args the loads' addresses depend on: through any operand (the pipeline
// computes whole addresses ahead), or through the offsets only (a TMA copy's map holds the rest).
SmallVector<unsigned> addressIterArgs(scf::ForOp forOp, const std::vector<Piped>& pipes, bool offsetsOnly) {
  std::set<unsigned> needed;
  DenseSet<Value> seen;
  for (const Piped& p : pipes) {
    ti::LoadBlockOp load = p.load;
    ValueRange operands = offsetsOnly ? ValueRange(load.getOffsets()) : ValueRange(load->getOperands());
    for (Value v : operands) neededIterArgs(forOp, v, needed, seen);
  }
  return SmallVector<unsigned>(needed.begin(), needed.end());
}

// TMA's run-time rules for every TMA load of the loop, from their operands before the loop.
struct TmaOperands {
  Value ptr;
  SmallVector<Value> shape, strides;
};
Value tmaRules(KernelEmitter& e, scf::ForOp forOp, Location loc, std::vector<Piped>& pipes,
               std::vector<TmaOperands>& operands) {
  operands.assign(pipes.size(), TmaOperands{});
  Value usable;
  for (auto [i, p] : llvm::enumerate(pipes)) {
    if (!p.tma) continue;
    IRMapping m;
    operands[i].ptr = evalAhead(e, forOp, p.load.getPtr(), m);
    for (Value v : p.load.getShape()) operands[i].shape.push_back(evalAhead(e, forOp, v, m));
    for (Value v : p.load.getStrides()) operands[i].strides.push_back(evalAhead(e, forOp, v, m));
    Value ok = tmaUsable(e, loc, p.load, operands[i].ptr, operands[i].strides);
    usable = andAll(e.b, loc, usable, ok);
    p.tma->empty = tmaEmpty(e, loc, p.load, operands[i].shape);
  }
  return usable;
}

}  // namespace

void emitBlockBarrier(KernelEmitter& e, Location loc) {
  inlineAsm(e.b, loc, ptx::kBarrierSyncUnaligned, "r,r", {e.i32(ptx::kBlockBarrier), e.i32(e.blockThreads)});
}

bool producerCanFeed(KernelEmitter& e, Operation* op) {
  auto forOp = dyn_cast<scf::ForOp>(op);
  if (!forOp) return false;
  std::vector<Piped> pipes;
  int64_t S = 0;
  if (failed(collectPipes(e, forOp, pipes, S)) || pipes.empty()) return false;
  return llvm::all_of(pipes, [](const Piped& p) { return p.tma || p.carrier >= 0; });
}

namespace {

// Trip count of `loop` (i32 bounds, positive step).
Value tripCount(KernelEmitter& e, Location loc, scf::ForOp loop) {
  OpBuilder& b = e.b;
  Value lb = e.scalar(loop.getLowerBound()), ub = e.scalar(loop.getUpperBound()), step = e.scalar(loop.getStep());
  Value span = b.create<arith::SubIOp>(loc, ub, lb);
  Value trips = b.create<arith::DivSIOp>(loc, b.create<arith::AddIOp>(loc, span, b.create<arith::SubIOp>(loc, step, e.i32(1))), step);
  return b.create<arith::SelectOp>(loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, ub, lb), trips, e.i32(0));
}

// Sets each pipe's ring base: the uses its ring had before this loop (in sibling loops, and in
// earlier runs of the group when an outer loop runs it again), this thread's ring count.
void setRingBases(KernelEmitter& e, Location loc, std::vector<Piped>& pipes) {
  for (Piped& p : pipes) {
    auto it = e.ringUses.find(e.ringHead(p.load));
    p.base = it == e.ringUses.end() ? Value() : e.b.create<LLVM::LoadOp>(loc, e.b.getI32Type(), it->second, 4).getResult();
  }
}

// After the loop: each ring's count moves on by the loop's trip count (both roles alike).
void advanceRingUses(KernelEmitter& e, Location loc, scf::ForOp loop, const std::vector<Piped>& pipes) {
  Value trips;
  for (const Piped& p : pipes) {
    auto it = e.ringUses.find(e.ringHead(p.load));
    if (it == e.ringUses.end() || !p.base) continue;
    if (!trips) trips = tripCount(e, loc, loop);
    e.b.create<LLVM::StoreOp>(loc, e.b.create<arith::AddIOp>(loc, p.base, trips), it->second, 4);
  }
}

// Before the producer rewrites a ring's tensor map for this run (the block's one map slot), the
// copies still in flight through the map of the previous run must have landed: per stage, the
// latest copy issued into it (of the `issued` uses so far) is waited for on its full barrier.
// No later use re-armed that barrier (the producer issues every use), so the parity is exact.
void waitIssuedCopies(KernelEmitter& e, Location loc, const TmaPipe& p, Value issued) {
  OpBuilder& b = e.b;
  using P = arith::CmpIPredicate;
  for (int64_t s = 0; s < p.stages; ++s) {
    when(b, loc, b.create<arith::CmpIOp>(loc, P::sgt, issued, e.i32(s)), [&] {
      // The latest use u <= issued - 1 with u % S == s, and its phase parity (u / S) & 1.
      Value back = b.create<arith::RemUIOp>(loc, b.create<arith::SubIOp>(loc, issued, e.i32(s + 1)), e.i32(p.stages));
      Value u = b.create<arith::SubIOp>(loc, b.create<arith::SubIOp>(loc, issued, e.i32(1)), back);
      Value parity = b.create<arith::AndIOp>(loc, b.create<arith::DivUIOp>(loc, u, e.i32(p.stages)), e.i32(1));
      inlineAsm(b, loc, ptx::kMbarrierWaitParity, "r,r", {sharedAddress(e, loc, p.fullOffset() + 8 * s), parity});
    });
  }
}

// Each pipe's stage and use number in the iteration numbered `count` of this loop.
void setSlots(KernelEmitter& e, Location loc, std::vector<Piped>& pipes, Value count, int64_t S) {
  OpBuilder& b = e.b;
  Value slot = b.create<arith::RemUIOp>(loc, count, e.i32(S)), use = b.create<arith::DivUIOp>(loc, count, e.i32(S));
  for (Piped& p : pipes) {
    if (!p.base) {
      p.slot = slot, p.use = use;
      continue;
    }
    Value c = b.create<arith::AddIOp>(loc, count, p.base);
    p.slot = b.create<arith::RemUIOp>(loc, c, e.i32(S)), p.use = b.create<arith::DivUIOp>(loc, c, e.i32(S));
  }
  for (Piped& p : pipes)
    if (p.carrier >= 0) p.slot = pipes[size_t(p.carrier)].slot, p.use = pipes[size_t(p.carrier)].use;
}

// Whether every loop of `loop`'s group (or `loop` alone) has one version.
bool groupOneVersion(KernelEmitter& e, Operation* loop) {
  auto g = e.rings.group.find(loop);
  if (g == e.rings.group.end()) return tmaRulesSettled(cast<scf::ForOp>(loop));
  for (auto& [l, grp] : e.rings.group)
    if (grp == g->second && !tmaRulesSettled(cast<scf::ForOp>(l))) return false;
  return true;
}

// Whether the producer and the consumers meet before a producer-fed loop: when the consumers
// initialise its barriers (not at the entry) or its buffers' bytes served another region
// before. A loop of a group after the first never does: the group met before its first loop.
bool meetsBefore(KernelEmitter& e, Operation* loop) {
  auto g = e.rings.group.find(loop);
  if (g != e.rings.group.end() && g->second.first != loop) return false;
  // Inside an outer loop, a loop of two versions meets: where the next run takes the cp.async
  // version, the consumers write the stage buffers themselves.
  if (carriedAcrossRuns(loop) && !groupOneVersion(e, loop)) return true;
  for (auto& [load, off] : e.pipelineOffset) {
    if (load->hasAttr(kRowInStageAttr)) continue;  // in its carrier's buffers
    Operation* l = load->getParentOp();
    bool inGroup = l == loop || (g != e.rings.group.end() && e.rings.group.lookup(l) == g->second);
    if (!inGroup) continue;
    Operation* head = e.ringHead(load);
    if (!e.barriersAtEntry.count(head) || !e.freshBuffers.count(head)) return true;
  }
  return false;
}

// Whether they meet after it: after a group's last loop only, and not where the loop runs
// inside an outer loop in one version: its buffers are the kernel's own (no other region
// shares their bytes) and its barriers are never invalidated, so the producer runs on into the
// next run's copies while the consumers finish this one.
bool meetsAfter(KernelEmitter& e, Operation* loop) {
  auto g = e.rings.group.find(loop);
  if (g != e.rings.group.end() && g->second.second != loop) return false;
  return !(carriedAcrossRuns(loop) && groupOneVersion(e, loop));
}

}  // namespace

// The producer's side of a loop the producer warpgroup feeds. It makes the consumers' choice
// between the TMA and the cp.async version from the same operands; in the TMA version its first
// warp builds the tensor maps of the rings the loop starts, it meets the consumers only where
// meetsBefore says so, then one thread issues every iteration's copies, waiting for a stage's
// empty barrier before each refill (so it runs up to S iterations ahead, into the ring's next
// loop too), and it meets them after a group's last loop. With rows riding in a stage the
// first warp runs the loop: its lanes wait for the stage's hand-back, the issuing thread arms
// the full barrier and issues the tile, then the lanes copy the rows' elements (a load and a
// shared store each) and each arrives on the full barrier (which counts the issuer's arrival
// and the lanes'). The cp.async version is the consumers' alone.
LogicalResult emitProducerLoop(KernelEmitter& e, Operation* op) {
  auto forOp = cast<scf::ForOp>(op);
  std::vector<Piped> pipes;
  int64_t S = 0;
  if (failed(collectPipes(e, forOp, pipes, S))) return failure();
  OpBuilder& b = e.b;
  Location loc = forOp.getLoc();
  Value lb = e.scalar(forOp.getLowerBound()), ub = e.scalar(forOp.getUpperBound()), step = e.scalar(forOp.getStep());
  auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
  auto iterArgs = forOp.getRegionIterArgs();
  SmallVector<unsigned> needed = addressIterArgs(forOp, pipes, /*offsetsOnly=*/true);
  std::vector<TmaOperands> operands;
  Value usable = tmaRules(e, forOp, loc, pipes, operands);
  when(b, loc, usable, [&] {
    setRingBases(e, loc, pipes);
    // The producer's first warp builds the maps of the rings this loop starts; a ring's later
    // loops use its head's.
    for (auto [i, p] : llvm::enumerate(pipes)) {
      if (!p.tma || e.ringHead(p.load) != p.load.getOperation()) continue;
      if (p.base) waitIssuedCopies(e, loc, *p.tma, p.base);
      emitTmaMapBuild(e, loc, *p.tma, operands[i].ptr, operands[i].shape, operands[i].strides, e.tmaIssuer);
    }
    // Barriers the consumers initialise, or buffers an earlier region used: wait for them.
    if (meetsBefore(e, op)) emitBlockBarrier(e, loc);
    const bool rows = llvm::any_of(pipes, [](const Piped& p) { return p.carrier >= 0; });
    Value issuerLane = rows ? b.create<arith::SubIOp>(loc, e.threadId(), e.i32(e.tmaIssuer)).getResult() : Value();
    Value runs = rows ? b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, issuerLane, e.i32(kRowCopyLanes))
                      : b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e.threadId(), e.i32(e.tmaIssuer));
    when(b, loc, runs, [&] {
      for (auto& p : pipes) {
        if (!p.tma) continue;
        p.tma->map = tmaMapAddress(e, loc, *p.tma);
        emitTmaAcquire(e, loc, *p.tma);
      }
      SmallVector<Value> inits;
      for (unsigned idx : needed) inits.push_back(e.scalar(forOp.getInitArgs()[idx]));
      inits.push_back(e.i32(0));
      auto loop = b.create<scf::ForOp>(loc, lb, ub, step, inits);
      Block* body = loop.getBody();
      if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>()) body->back().erase();
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToEnd(body);
      Value count = loop.getRegionIterArgs().back();
      IRMapping m;
      m.map(forOp.getInductionVar(), loop.getInductionVar());
      for (auto [k, idx] : llvm::enumerate(needed)) m.map(iterArgs[idx], loop.getRegionIterArgs()[k]);
      setSlots(e, loc, pipes, count, S);
      Value always = b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 1);
      for (auto& p : pipes) {
        if (!p.tma) continue;  // a row: copied with its carrier
        SmallVector<Value> offsets;
        for (Value v : p.load.getOffsets()) offsets.push_back(evalAhead(e, forOp, v, m));
        // Use `use` of the stage refills it once the consumers handed back use - 1.
        Value refill = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, p.use, e.i32(1));
        Value previousUse = b.create<arith::SubIOp>(loc, p.use, e.i32(1));
        if (p.riders.empty()) {
          emitTmaIssue(e, loc, *p.tma, p.slot, offsets, always, refill, previousUse);
          continue;
        }
        // Every copying lane waits for the hand-back; the tile goes first, so it is in flight
        // while the lanes copy the rows (the full barrier counts the issuer's arrival and each
        // lane's).
        emitStageEmptyWait(e, loc, *p.tma, p.slot, refill, previousUse);
        emitTmaIssue(e, loc, *p.tma, p.slot, offsets, always);
        Value stage = b.create<arith::MulIOp>(loc, p.slot, e.i32(p.stage));
        for (int r : p.riders) {
          Piped& row = pipes[size_t(r)];
          issueRowCopy(e, forOp, row, m, b.create<arith::AddIOp>(loc, e.i32(row.offset), stage), always, issuerLane,
                       kRowCopyLanes, /*synchronous=*/true);
        }
        emitRowCopiesArrive(e, loc, *p.tma, p.slot);
      }
      SmallVector<Value> next;
      for (unsigned idx : needed) next.push_back(evalAhead(e, forOp, yield.getOperand(idx), m));
      next.push_back(b.create<arith::AddIOp>(loc, count, e.i32(1)));
      b.create<scf::YieldOp>(loc, next);
    });
    advanceRingUses(e, loc, forOp, pipes);
    // Every consumer past its last wait and arrival before the buffers serve others.
    if (meetsAfter(e, op)) emitBlockBarrier(e, loc);
  });
  return success();
}

LogicalResult emitPipelinedFor(KernelEmitter& e, Operation* op, bool& handled) {
  auto forOp = cast<scf::ForOp>(op);
  handled = false;
  std::vector<Piped> pipes;
  int64_t S = 0;
  if (failed(collectPipes(e, forOp, pipes, S))) return failure();
  if (pipes.empty()) return success();
  handled = true;
  OpBuilder& b = e.b;
  Location loc = forOp.getLoc();
  Value lb = e.scalar(forOp.getLowerBound()), ub = e.scalar(forOp.getUpperBound()), step = e.scalar(forOp.getStep());
  auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
  auto iterArgs = forOp.getRegionIterArgs();

  SmallVector<unsigned> needed = addressIterArgs(forOp, pipes, /*offsetsOnly=*/false);
  for (unsigned idx : needed)
    if (e.regs(forOp.getInitArgs()[idx]).size() != 1) return forOp.emitOpError("pipelining: address iter_arg is not a scalar");

  SmallVector<Value> inits;
  SmallVector<Type> resultTypes;
  SmallVector<unsigned> counts;
  for (Value v : forOp.getInitArgs()) {
    llvm::append_range(inits, e.regs(v));
    counts.push_back(unsigned(e.regs(v).size()));
  }
  for (Value v : inits) resultTypes.push_back(v.getType());
  const size_t nOrig = inits.size();

  // A barrier keeps the prologue from overwriting buffers another warp may still read (when
  // this loop runs again inside an outer loop).
  b.create<mlir::gpu::BarrierOp>(loc);

  // TMA: the loads' operands before the loop, and whether TMA's run-time rules hold for all.
  // In a warp-specialised kernel the producer warpgroup issues this loop's copies
  // (emitProducerLoop): the consumers only wait for stages and hand them back. Rows riding in a
  // TMA stage are the producer's then; without it the consumers copy them into that stage.
  const bool byProducer = e.warpSpecialized && e.producerLoops.count(op);
  bool anyTma = llvm::any_of(pipes, [](const Piped& p) { return bool(p.tma); });
  bool allTma = llvm::all_of(pipes, [&](const Piped& p) { return p.tma || (byProducer && p.carrier >= 0); });
  std::vector<TmaOperands> operands;
  Value usable = tmaRules(e, forOp, loc, pipes, operands);
  // Rows are marked only in loops of one version (tile-pipeline-loops: TMA's rules settled by
  // the facts, or no TMA load).
  if (anyTma && !constantBool(usable) && llvm::any_of(pipes, [](const Piped& p) { return p.row; }))
    return forOp.emitOpError("pipelined row in a loop with a run-time TMA test");
  for (auto& p : pipes)
    if (p.tma) p.tma->handBack = allTma;

  // One version of the loop: with TMA for the loads that qualify, or all on cp.async. Two
  // versions instead of a choice per copy keep the other path's addresses out of the loop's
  // registers.
  auto version = [&](bool tma) -> FailureOr<SmallVector<Value>> {
    // Stages go back to the producer through empty barriers instead of a per-iteration barrier.
    const bool handBack = tma && allTma;
    const bool cpAsync = !tma || !allTma;
    for (auto& p : pipes) p.base = Value();  // ring bases: the producer-fed TMA version only
    if (tma && byProducer) {
      // The producer builds the maps. The consumers initialise the barriers not initialised at
      // the entry, and make earlier writes to the buffers' bytes (another region's, through
      // the generic proxy) visible to TMA's async proxy, before they meet it.
      if (meetsBefore(e, op)) {
        for (auto& p : pipes)
          if (p.tma && !p.tma->atEntry) emitStageBarrierInit(e, loc, *p.tma);
        emitAsyncProxyFence(b, loc);
        emitBlockBarrier(e, loc);
      }
      setRingBases(e, loc, pipes);
    } else if (tma) {
      for (auto [i, p] : llvm::enumerate(pipes))
        if (p.tma) emitTmaSetup(e, loc, *p.tma, operands[i].ptr, operands[i].shape, operands[i].strides);
      // The buffers' bytes may have been written through the generic proxy (another loop's
      // staging); TMA writes them through the async proxy.
      emitAsyncProxyFence(b, loc);
      b.create<mlir::gpu::BarrierOp>(loc);  // barriers initialised, maps published
    }
    const Turns turns = handBack ? turnsOf(e, forOp) : Turns{};
    TurnOps turnOps;
    Value group, myTurn, nextTurn;
    if (turns.groups) {
      group = b.create<arith::ShRUIOp>(loc, e.warp(), e.i32(2));
      myTurn = b.create<arith::AddIOp>(loc, group, e.i32(ptx::kTurnBarrierFirst));
      Value next = b.create<arith::RemUIOp>(loc, b.create<arith::AddIOp>(loc, group, e.i32(1)), e.i32(turns.groups));
      nextTurn = b.create<arith::AddIOp>(loc, next, e.i32(ptx::kTurnBarrierFirst));
      when(b, loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, group, e.i32(turns.groups - 1)),
           [&] { turnOps.prime = namedBarrier(e, loc, ptx::kNamedBarrierArrive, e.i32(ptx::kTurnBarrierFirst)); });
    }
    // Prologue: iterations 0 .. S-2.
    Value iv = lb;
    SmallVector<Value> state;
    for (unsigned idx : needed) state.push_back(e.scalar(forOp.getInitArgs()[idx]));
    for (int64_t s = 0; s + 1 < S; ++s) {
      IRMapping m;
      m.map(forOp.getInductionVar(), iv);
      for (auto [k, idx] : llvm::enumerate(needed)) m.map(iterArgs[idx], state[k]);
      Value valid = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, iv, ub);
      if (!(tma && byProducer))
        for (auto& p : pipes) issueStage(e, forOp, p, m, e.i32(s), valid, tma);
      if (cpAsync) b.create<NVVM::CpAsyncCommitGroupOp>(loc);
      SmallVector<Value> next;
      for (unsigned idx : needed) next.push_back(evalAhead(e, forOp, yield.getOperand(idx), m, valid));
      state = next;
      iv = b.create<arith::AddIOp>(loc, iv, step);
    }

    // The loop, carrying the scalars of iteration i+S-1 and the iteration count.
    SmallVector<Value> loopInits(inits);
    llvm::append_range(loopInits, state);
    loopInits.push_back(e.i32(0));
    auto newFor = b.create<scf::ForOp>(loc, lb, ub, step, loopInits);
    Block* body = newFor.getBody();
    if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>()) body->back().erase();
    e.setRegs(forOp.getInductionVar(), {newFor.getInductionVar()});
    auto newArgs = newFor.getRegionIterArgs();
    size_t at = 0;
    for (auto [v, n] : llvm::zip(iterArgs, counts)) {
      e.setRegs(v, SmallVector<Value>(newArgs.begin() + at, newArgs.begin() + at + n));
      at += n;
    }
    SmallVector<Value> ahead(newArgs.begin() + nOrig, newArgs.begin() + nOrig + needed.size());
    Value count = newArgs.back();
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToEnd(body);
      // The iteration's thread values are computed in it, not hoisted over the loop (as
      // emitFor does for plain loops; ptxas over every kernel: static spills 180 760 -> 72 552 B,
      // bench/RESULTS.md).
      KernelEmitter::ThreadScope scope = e.enterIterationScope(loc);
      setSlots(e, loc, pipes, count, S);
      if (cpAsync) b.create<NVVM::CpAsyncWaitGroupOp>(loc, int32_t(S - 2));
      // With empty-barrier hand-over each stage is waited for just before the body op that
      // first reads it and handed back just after the op that last reads it: V's copy may land
      // while the scores' softmax runs, and K's stage is refilled without waiting for P @ V.
      // Otherwise the block-wide barrier below publishes every stage at the top.
      if (tma && !handBack)
        for (auto& p : pipes)
          if (p.tma) emitTmaWait(e, loc, *p.tma, p.slot, p.use);
      if (!handBack) {
        // wgmma reads shared memory through the async proxy: make this thread's copies visible
        // to it before the barrier publishes them (only swizzled buffers can be read by wgmma).
        if (llvm::any_of(pipes, [](Piped p) { return !p.row && bufferTile(p.load.getResult().getType().getShape(), 1).swizzled; }))
          emitAsyncProxyFence(b, loc);
        b.create<mlir::gpu::BarrierOp>(loc);
      }
      Value writeSlot = b.create<arith::RemUIOp>(loc, b.create<arith::AddIOp>(loc, count, e.i32(S - 1)), e.i32(S));
      Value ivAhead = b.create<arith::AddIOp>(loc, newFor.getInductionVar(),
                                              b.create<arith::MulIOp>(loc, step, e.i32(S - 1)));
      IRMapping m;
      m.map(forOp.getInductionVar(), ivAhead);
      for (auto [k, idx] : llvm::enumerate(needed)) m.map(iterArgs[idx], ahead[k]);
      Value valid = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, ivAhead, ub);
      // The stage written now was last read by iteration count - 1 (none before the first).
      Value refill, previousUse;
      if (handBack) {
        refill = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, count, e.i32(0));
        previousUse = b.create<arith::DivUIOp>(loc, b.create<arith::SubIOp>(loc, count, e.i32(1)), e.i32(S));
      }
      DenseSet<Operation*> skip;
      DenseMap<Operation*, std::pair<Piped*, Value>> rowReads;  // row loads -> their stage
      for (auto& p : pipes) {
        if (!(tma && byProducer)) issueStage(e, forOp, p, m, writeSlot, valid, tma, refill, previousUse);
        auto shape = p.load.getResult().getType().getShape();
        Value slotBase = b.create<arith::AddIOp>(loc, e.i32(p.offset), b.create<arith::MulIOp>(loc, p.slot, e.i32(p.stage)));
        if (p.row) {
          rowReads[p.load] = {&p, slotBase};
          continue;
        }
        skip.insert(p.load);
        for (const PipelineUse& use : p.uses) {
          // The same bytes seen as the tile, or as its transpose (rows and columns swapped).
          auto tile = use.trans ? std::make_shared<SmemTile>(bufferTile({shape[1], shape[0]}, 0))
                                : std::make_shared<SmemTile>(bufferTile(shape, 1));
          tile->slotBase = slotBase;
          e.pipelineReads[use.convert] = tile;
          if (use.trans) skip.insert(use.trans);
        }
      }
      if (cpAsync) b.create<NVVM::CpAsyncCommitGroupOp>(loc);
      DenseMap<Operation*, SmallVector<Piped*>> waitBefore, handBackAfter;
      DenseMap<Piped*, SmallVector<Operation*>> stageReaders;  // the body's ops that read the stage
      if (handBack)
        for (auto& p : pipes) {
          if (!p.tma) continue;  // a riding row: its carrier's wait and hand-back cover it
          for (PipelineUse use : p.uses) {
            stageReaders[&p].push_back(forOp.getBody()->findAncestorOpInBlock(*use.convert));
            for (Operation* user : use.convert.getResult().getUsers())
              if (Operation* u = forOp.getBody()->findAncestorOpInBlock(*user)) stageReaders[&p].push_back(u);
          }
          auto [first, last] = readerSpan(forOp, p);
          for (int r : p.riders) {
            Operation* read = forOp.getBody()->findAncestorOpInBlock(*pipes[size_t(r)].load);
            if (read->isBeforeInBlock(first)) first = read;
            if (last->isBeforeInBlock(read)) last = read;
          }
          waitBefore[first].push_back(&p);
          handBackAfter[last].push_back(&p);
        }
      // The body's wgmma dots run asynchronously (KernelEmitter::inflightDots); a stage read by
      // a dot still in flight goes back when that dot has been waited for.
      e.deferDotsIn = forOp.getOperation();
      for (Operation& inner : forOp.getBody()->without_terminator()) {
        if (skip.count(&inner)) continue;
        for (Piped* p : waitBefore.lookup(&inner)) emitTmaWait(e, loc, *p->tma, p->slot, p->use);
        if (auto row = rowReads.find(&inner); row != rowReads.end()) {
          emitRowRead(e, *row->second.first, row->second.second);
        } else {
          e.settleDotsReadBy(&inner);
          if (&inner == turns.first) turnOps.wait = namedBarrier(e, loc, ptx::kNamedBarrierSync, myTurn);
          if (failed(e.emitOp(&inner))) {
            e.deferDotsIn = nullptr;
            return failure();
          }
          if (&inner == turns.last) turnOps.pass = namedBarrier(e, loc, ptx::kNamedBarrierArrive, nextTurn);
        }
        for (Piped* p : handBackAfter.lookup(&inner)) {
          TmaPipe pipe = *p->tma;
          Value slot = p->slot;
          auto handBackStage = [&e, loc, pipe, slot] { emitTmaHandBack(e, loc, pipe, slot); };
          // The newest dot still in flight that reads the stage: the stage goes back once it has
          // been waited for (older groups complete before it). The last reader may be a riding
          // row's read after the dot, which leaves the dot in flight.
          int reading = -1;
          for (size_t k = 0; k < e.inflightDots.size(); ++k)
            for (Operation* reader : stageReaders.lookup(p))
              if (reader->isAncestor(e.inflightDots[k].dot)) reading = int(k);
          if (reading >= 0)
            e.inflightDots[size_t(reading)].onComplete.push_back(handBackStage);
          else
            handBackStage();
        }
      }
      e.settleAllDots();
      e.deferDotsIn = nullptr;
      SmallVector<Value> flat;
      for (Value v : yield.getOperands()) llvm::append_range(flat, e.regs(v));
      for (unsigned idx : needed) flat.push_back(evalAhead(e, forOp, yield.getOperand(idx), m, valid));
      flat.push_back(b.create<arith::AddIOp>(loc, count, e.i32(1)));
      b.create<scf::YieldOp>(loc, flat);
      e.leaveIterationScope(std::move(scope));
    }
    if (cpAsync) b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
    if (turns.groups) {
      when(b, loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, group, e.i32(0)),
           [&] { turnOps.last = namedBarrier(e, loc, ptx::kNamedBarrierSync, e.i32(ptx::kTurnBarrierFirst)); });
      if (barrierInTurn(turnOps)) turnOps.erase();
    }
    if (tma && byProducer) {
      advanceRingUses(e, loc, forOp, pipes);
      // Every consumer past its last wait and arrival before the buffers serve others (or
      // the barriers are invalidated).
      if (meetsAfter(e, op)) emitBlockBarrier(e, loc);
      for (auto& p : pipes)
        if (p.tma) emitTmaRelease(e, loc, *p.tma);
    } else if (tma) {
      // Every thread is past its last wait and arrival before the barriers are invalidated.
      b.create<mlir::gpu::BarrierOp>(loc);
      for (auto& p : pipes)
        if (p.tma) emitTmaRelease(e, loc, *p.tma);
    }
    return SmallVector<Value>(newFor.getResults().begin(), newFor.getResults().begin() + nOrig);
  };

  SmallVector<Value> results;
  if (anyTma) {
    bool failedVersion = false;
    results = ifElse(
        b, loc, resultTypes, usable,
        [&] {
          auto r = version(true);
          if (failed(r)) failedVersion = true;
          return failed(r) ? SmallVector<Value>(inits) : *r;
        },
        [&] {
          auto r = version(false);
          if (failed(r)) failedVersion = true;
          return failed(r) ? SmallVector<Value>(inits) : *r;
        });
    if (failedVersion) return failure();
  } else {
    auto r = version(false);
    if (failed(r)) return failure();
    results = *r;
  }
  size_t at = 0;
  for (auto [v, n] : llvm::zip(forOp.getResults(), counts)) {
    e.setRegs(v, SmallVector<Value>(results.begin() + at, results.begin() + at + n));
    at += n;
  }
  return success();
}

}  // namespace tile::lowering
