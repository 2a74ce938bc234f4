// The producer warpgroup of a warp-specialised kernel (tile.warp_specialized).
//
// The kernel's own warps become consumers: they run the kernel as before, but in the loops
// whose pipelined loads are all on TMA they only wait for stages and hand them back. A
// producer warpgroup after them runs a slice of the kernel: the same control flow down to
// those loops (scf.if / scf.for around them), the scalars their bounds, TMA rules and tile
// offsets are computed from (program ids, arguments, index math, scalar loads such as
// cu_seqlens), and in each loop one thread issuing the copies (emitProducerLoop). Everything
// else (tiles, dots, stores, other loops) is left out. Producer and consumers take the same
// branches because the slice computes the same uniform scalars.
#include <string>

#include "dsl/ir/TileDialect.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/pipeline_uses.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {

namespace {

bool isTileValue(Value v) { return isa<RankedTensorType>(v.getType()); }

struct Slice {
  KernelEmitter& e;
  std::string& why;
  SmallVector<Value> work;
  DenseSet<Value> seen;

  LogicalResult fail(const std::string& reason) {
    why = reason;
    return failure();
  }

  // Values of the producer loop `forOp` its copies need: from outside the loop they are
  // roots; inside it, the chain from the induction variable and scalar iter_args (which
  // emitProducerLoop re-creates, as the consumers' pipeline computes addresses ahead).
  LogicalResult traceInLoop(scf::ForOp forOp, Value v, DenseSet<Value>& inLoop) {
    Operation* parent = v.getParentBlock()->getParentOp();
    if (parent != forOp.getOperation() && !forOp->isProperAncestor(parent)) {
      work.push_back(v);
      return success();
    }
    if (!inLoop.insert(v).second || v == forOp.getInductionVar()) return success();
    if (isTileValue(v)) return fail("a TMA copy's offset is computed from a tile");
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      unsigned idx = arg.getArgNumber() - 1;
      work.push_back(forOp.getInitArgs()[idx]);
      return traceInLoop(forOp, forOp.getBody()->getTerminator()->getOperand(idx), inLoop);
    }
    for (Value operand : v.getDefiningOp()->getOperands())
      if (failed(traceInLoop(forOp, operand, inLoop))) return failure();
    return success();
  }

  LogicalResult addLoop(scf::ForOp forOp) {
    for (Operation* a = forOp->getParentOp(); !isa<func::FuncOp>(a); a = a->getParentOp()) {
      if (producerCanFeed(e, a)) return fail("a producer-fed loop nested in another");
      if (auto ifOp = dyn_cast<scf::IfOp>(a)) {
        work.push_back(ifOp.getCondition());
      } else if (auto outer = dyn_cast<scf::ForOp>(a)) {
        work.append({outer.getLowerBound(), outer.getUpperBound(), outer.getStep()});
      } else {
        return fail("a producer-fed loop inside '" + a->getName().getStringRef().str() + "'");
      }
      e.producerControl.insert(a);
    }
    work.append({forOp.getLowerBound(), forOp.getUpperBound(), forOp.getStep()});
    DenseSet<Value> inLoop;
    for (auto load : forOp.getBody()->getOps<ti::LoadBlockOp>()) {
      if (!load->hasAttr("tilegpu.pipeline")) continue;
      for (Value v : load->getOperands())
        if (failed(traceInLoop(forOp, v, inLoop))) return failure();
    }
    return success();
  }

  // An scf.if of scalars only (sequence bounds from cu_seqlens or from the arguments): the
  // producer runs it whole. Its branches may read memory but not write it, and every value
  // they use from outside becomes a root.
  LogicalResult addScalarRegions(Operation* def) {
    std::string name = def->getName().getStringRef().str();
    if (!isa<scf::IfOp>(def)) return fail("a loop bound or TMA operand is the result of '" + name + "'");
    LogicalResult ok = success();
    def->walk([&](Operation* inner) {
      if (inner == def || failed(ok)) return;
      auto noTiles = [](TypeRange types) { return llvm::none_of(types, [](Type t) { return isa<RankedTensorType>(t); }); };
      if (!noTiles(inner->getResultTypes()) || !noTiles(inner->getOperandTypes()))
        ok = fail("a loop bound or TMA operand comes from an scf.if that computes tiles");
      else if (!isPure(inner) && !isa<ti::LoadScalarOp, scf::YieldOp, scf::IfOp>(inner))
        ok = fail("a loop bound or TMA operand comes from an scf.if with side effects ('" +
                  inner->getName().getStringRef().str() + "')");
      for (Value operand : inner->getOperands())
        if (!def->isAncestor(operand.getParentBlock()->getParentOp())) work.push_back(operand);
    });
    return ok;
  }

  // The scalar ops the roots are computed from, all of which the producer re-computes.
  LogicalResult close() {
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second) continue;
      if (isTileValue(v)) return fail("a loop bound or TMA operand is computed from a tile");
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        Operation* owner = arg.getOwner()->getParentOp();
        if (isa<func::FuncOp>(owner)) continue;
        auto loop = dyn_cast<scf::ForOp>(owner);
        if (loop && e.producerControl.count(loop) && arg == loop.getInductionVar()) continue;
        return fail("a loop bound or TMA operand is carried by a loop");
      }
      Operation* def = v.getDefiningOp();
      if (def->getNumRegions() && failed(addScalarRegions(def))) return failure();
      for (Operation* a = def->getParentOp(); !isa<func::FuncOp>(a); a = a->getParentOp())
        if (!e.producerControl.count(a)) return fail("a loop bound or TMA operand is computed where the producer does not run");
      e.producerScalars.insert(def);
      for (Value operand : def->getOperands()) work.push_back(operand);
    }
    return success();
  }
};

}  // namespace

LogicalResult planProducer(KernelEmitter& e, Block& body, std::string& why) {
  e.producerScalars.clear();
  e.producerControl.clear();
  e.producerLoops.clear();
  Slice slice{e, why, {}, {}};
  LogicalResult result = success();
  for (Operation& op : body)
    op.walk([&](scf::ForOp forOp) {
      if (failed(result) || !producerCanFeed(e, forOp)) return;
      e.producerLoops.insert(forOp);
      result = slice.addLoop(forOp);
    });
  if (failed(result)) return failure();
  if (e.producerLoops.empty()) {
    why = "no pipelined loop has all of its loads on TMA";
    return failure();
  }
  return slice.close();
}

LogicalResult emitProducer(KernelEmitter& e, Block& body) {
  OpBuilder& b = e.b;
  for (Operation& op : body) {
    if (isa<scf::YieldOp, func::ReturnOp>(op)) continue;
    if (e.producerLoops.count(&op)) {
      if (failed(emitProducerLoop(e, &op))) return failure();
    } else if (e.producerControl.count(&op)) {
      OpBuilder::InsertionGuard g(b);
      if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
        bool hasElse = !ifOp.getElseRegion().empty();
        auto made = b.create<scf::IfOp>(op.getLoc(), e.scalar(ifOp.getCondition()), hasElse);
        b.setInsertionPoint(made.thenBlock()->getTerminator());
        if (failed(emitProducer(e, *ifOp.thenBlock()))) return failure();
        if (hasElse) {
          b.setInsertionPoint(made.elseBlock()->getTerminator());
          if (failed(emitProducer(e, *ifOp.elseBlock()))) return failure();
        }
      } else {
        auto forOp = cast<scf::ForOp>(op);
        auto made = b.create<scf::ForOp>(op.getLoc(), e.scalar(forOp.getLowerBound()), e.scalar(forOp.getUpperBound()),
                                         e.scalar(forOp.getStep()));
        e.setRegs(forOp.getInductionVar(), {made.getInductionVar()});
        b.setInsertionPoint(made.getBody()->getTerminator());
        if (failed(emitProducer(e, *forOp.getBody()))) return failure();
      }
    } else if (e.producerScalars.count(&op)) {
      if (failed(e.emitOp(&op))) return failure();
    }
  }
  return success();
}

}  // namespace tile::lowering
