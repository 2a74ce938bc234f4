// tile-assign-layouts: decides which thread owns which element of every tile.
//
// Plan (Triton's idea, simplified):
//  * Values are either "cheap" (built only from splat / arange / constants by index math, no
//    memory and no data from other threads) or not. A cheap value has no layout of its own: it
//    is re-created in whatever layout each user wants, so zeros for an accumulator, masks built
//    from arange and splat(-inf) loop inits never cost a layout conversion.
//  * Anchors give the other values their layouts: loads get a vector-friendly blocked layout,
//    dot results the mma accumulator layout, reductions the slice of their operand's layout;
//    elementwise ops, broadcast, expand_dims and trans pass layouts through; loop-carried values
//    take the layout their loop body yields (iterated to a fixed point).
//  * Where an operand's layout differs from what its user needs (e.g. a dot operand), a
//    tilegpu.convert_layout is inserted right after the producer, so conversions of
//    loop-invariant values stay outside loops and are shared by all users.
#include "dsl/ir/TileDialect.h"
#include "llvm/ADT/SetVector.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/layout/default_layouts.h"
#include "lowering/passes/passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
namespace tg = tile::gpu;
namespace ti = tile::ir;

namespace tile::lowering {
namespace {

RankedTensorType tensorType(Value v) { return dyn_cast<RankedTensorType>(v.getType()); }

bool wgmmaShape(ti::DotOp dot, unsigned numWarps) {
  auto a = dot.getA().getType(), c = dot.getAcc().getType();
  return tile::lowering::wgmmaShape(c.getDimSize(0), c.getDimSize(1), a.getDimSize(1),
                                    a.getElementType().getIntOrFloatBitWidth(), c.getElementType().isF32(), numWarps);
}

RankedTensorType withLayout(RankedTensorType t, Attribute enc) {
  return RankedTensorType::get(t.getShape(), t.getElementType(), enc);
}

bool isElementwise(Operation* op) {
  if (op->getNumRegions() != 0 || op->getNumResults() != 1) return false;
  StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
  return (ns == "arith" || ns == "math") && !isa<arith::ConstantOp>(op) && tensorType(op->getResult(0));
}

// Swaps the two dimensions of a blocked layout (the layout of trans(x) when x is blocked).
tg::BlockedAttr transposed(tg::BlockedAttr b) {
  auto sw = [](ArrayRef<unsigned> a) { return SmallVector<unsigned>{a[1], a[0]}; };
  SmallVector<unsigned> order;
  for (unsigned d : b.getOrder()) order.push_back(1 - d);
  return tg::BlockedAttr::get(b.getContext(), sw(b.getSizePerThread()), sw(b.getThreadsPerWarp()),
                              sw(b.getWarpsPerCTA()), order);
}

// The layout of trans(x) for x in layout `l` (trans is free: only the coordinate map changes).
Attribute transposedOf(Attribute l) {
  if (auto b = dyn_cast<tg::BlockedAttr>(l)) return transposed(b);
  if (auto t = dyn_cast<tg::TransposedAttr>(l)) return t.getParent();
  return tg::TransposedAttr::get(l.getContext(), l);
}

class LayoutAssigner {
 public:
  LayoutAssigner(func::FuncOp f, unsigned numWarps) : func_(f), ctx_(f.getContext()), numWarps_(numWarps) {}

  LogicalResult run() {
    func_.walk([&](ti::ReduceOp) { hasReduce_ = true; });
    markCheap(func_.getBody());
    if (failed(planRegion(func_.getBody()))) return failure();
    return rewrite();
  }

 private:
  // ---- cheap values -------------------------------------------------------------------------
  void markCheap(Region& region) {
    region.walk<WalkOrder::PreOrder>([&](Operation* op) {
      if (op->getNumResults() != 1 || !tensorType(op->getResult(0))) return;
      bool leaf = isa<ti::SplatOp, ti::ArangeOp, arith::ConstantOp>(op);
      bool passThrough = isElementwise(op) || isa<ti::BroadcastOp, ti::ExpandDimsOp, ti::TransOp>(op);
      if (leaf || (passThrough && llvm::all_of(op->getOperands(), [&](Value v) {
                     return !tensorType(v) || cheap_.count(v);
                   })))
        cheap_.insert(op->getResult(0));
    });
  }

  Attribute defaultFor(RankedTensorType t) {
    return defaultBlocked(ctx_, t.getShape(), t.getElementType().getIntOrFloatBitWidth(), numWarps_);
  }
  // The layout a value has on its own (cheap values: the default one).
  Attribute ownLayout(Value v) {
    if (!cheap_.count(v)) {
      auto it = layout_.find(v);
      if (it != layout_.end()) return it->second;
    }
    return defaultFor(tensorType(v));
  }
  Attribute nonCheapLayout(Value v) {
    if (cheap_.count(v) || !tensorType(v)) return {};
    return layout_.lookup(v);
  }

  // ---- phase 1: plan the layout of every non-cheap value -----------------------------------
  LogicalResult planRegion(Region& region) {
    for (Block& block : region)
      for (Operation& op : block)
        if (failed(planOp(&op))) return failure();
    return success();
  }

  LogicalResult planOp(Operation* op) {
    if (auto forOp = dyn_cast<scf::ForOp>(op)) return planFor(forOp);
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) return planIf(ifOp);
    if (op->getNumResults() == 0) {
      if (isa<ti::StoreOp, ti::AtomicAddOp>(op)) {
        Value value = op->getOperand(2), offsets = op->getOperand(1);
        Attribute l = nonCheapLayout(value);
        if (!l) l = nonCheapLayout(offsets);
        opLayout_[op] = l ? l : defaultFor(tensorType(value));
      } else if (auto st = dyn_cast<ti::StoreBlockOp>(op)) {
        opLayout_[op] = ownLayout(st.getValue());
      } else if (auto at = dyn_cast<ti::AtomicAddBlockOp>(op)) {
        opLayout_[op] = ownLayout(at.getValue());
      }
      return success();
    }
    if (op->getNumResults() != 1 || !tensorType(op->getResult(0)) || cheap_.count(op->getResult(0))) {
      if (auto red = dyn_cast<ti::ReduceOp>(op)) opLayout_[op] = ownLayout(red.getSrc());
      return success();
    }
    Value res = op->getResult(0);
    auto type = tensorType(res);
    Attribute l;
    if (isa<ti::LoadBlockOp>(op)) {
      l = defaultFor(type);
    } else if (auto ld = dyn_cast<ti::LoadOp>(op)) {
      l = nonCheapLayout(ld.getOffsets());
      if (!l) l = defaultFor(type);
    } else if (auto dot = dyn_cast<ti::DotOp>(op)) {
      {
      bool wgmma = wgmmaShape(dot, numWarps_);
      l = defaultMma(ctx_, type.getShape(), numWarps_, /*rowsInWarp=*/hasReduce_ || wgmma, wgmma);
      }
    } else if (auto red = dyn_cast<ti::ReduceOp>(op)) {
      Attribute src = ownLayout(red.getSrc());
      opLayout_[op] = src;
      l = tg::SliceAttr::get(ctx_, red.getAxis(), src);
    } else if (auto br = dyn_cast<ti::BroadcastOp>(op)) {
      l = ownLayout(br.getSrc());
    } else if (auto ex = dyn_cast<ti::ExpandDimsOp>(op)) {
      auto s = dyn_cast_or_null<tg::SliceAttr>(nonCheapLayout(ex.getSrc()));
      l = (s && s.getDim() == unsigned(ex.getAxis())) ? s.getParent() : defaultFor(type);
    } else if (auto tr = dyn_cast<ti::TransOp>(op)) {
      l = transposedOf(ownLayout(tr.getSrc()));
    } else if (isElementwise(op)) {
      for (Value v : op->getOperands())
        if ((l = nonCheapLayout(v))) break;
      if (!l) l = defaultFor(type);
    } else {
      return op->emitOpError("tile-assign-layouts: no layout rule for this op");
    }
    layout_[res] = l;
    return success();
  }

  LogicalResult planFor(scf::ForOp forOp) {
    auto iterArgs = forOp.getRegionIterArgs();
    auto yield = cast<scf::YieldOp>(forOp.getBody()->getTerminator());
    // A carried value takes the layout its body yields; iterate until that is stable. One
    // whose init is cheap (zeros, -inf) starts undecided so that it does not impose the
    // default layout on the body.
    SmallVector<Attribute> carried;
    for (Value init : forOp.getInitArgs()) carried.push_back(nonCheapLayout(init));
    for (int round = 0; round < 4; ++round) {
      for (auto [arg, l] : llvm::zip(iterArgs, carried)) {
        if (l) layout_[arg] = l;
        else layout_.erase(arg);
      }
      if (failed(planRegion(forOp.getRegion()))) return failure();
      bool changed = false;
      for (auto [i, v] : llvm::enumerate(yield.getOperands())) {
        Attribute y = nonCheapLayout(v);
        if (y && y != carried[i]) carried[i] = y, changed = true;
      }
      if (!changed) break;
    }
    for (auto [i, arg] : llvm::enumerate(iterArgs)) {
      if (!tensorType(arg)) continue;
      if (!carried[i]) carried[i] = defaultFor(tensorType(arg));
      layout_[arg] = carried[i];
      layout_[forOp.getResult(i)] = carried[i];
    }
    return success();
  }

  LogicalResult planIf(scf::IfOp ifOp) {
    if (failed(planRegion(ifOp.getThenRegion())) || failed(planRegion(ifOp.getElseRegion()))) return failure();
    for (auto [i, res] : llvm::enumerate(ifOp.getResults())) {
      if (!tensorType(res)) continue;
      Attribute l = nonCheapLayout(ifOp.thenYield().getOperand(i));
      if (!l && !ifOp.getElseRegion().empty()) l = nonCheapLayout(ifOp.elseYield().getOperand(i));
      layout_[res] = l ? l : defaultFor(tensorType(res));
    }
    return success();
  }

  // ---- phase 2: retype values, materialise operands in the layouts their users need ---------
  // Layout operand `idx` of `op` must have, given the (already planned) layouts of its results.
  Attribute requiredLayout(Operation* op, unsigned idx, Attribute resultLayout) {
    Value v = op->getOperand(idx);
    if (isElementwise(op) || isa<ti::BroadcastOp>(op)) return resultLayout;
    if (isa<ti::LoadOp>(op)) return resultLayout;
    if (isa<ti::StoreOp, ti::AtomicAddOp, ti::StoreBlockOp, ti::AtomicAddBlockOp, ti::ReduceOp>(op)) return opLayout_.lookup(op);
    if (auto ex = dyn_cast<ti::ExpandDimsOp>(op)) return tg::SliceAttr::get(ctx_, ex.getAxis(), resultLayout);
    if (isa<ti::TransOp>(op)) return transposedOf(resultLayout);
    if (isa<ti::DotOp>(op)) {
      if (idx == 2) return resultLayout;
      return tg::DotOperandAttr::get(ctx_, idx, resultLayout);
    }
    if (auto yield = dyn_cast<scf::YieldOp>(op)) {
      Operation* parent = yield->getParentOp();
      return layout_.lookup(parent->getResult(idx));
    }
    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      unsigned first = forOp.getNumControlOperands();
      if (idx >= first) return layout_.lookup(forOp.getResult(idx - first));
    }
    (void)v;
    return {};
  }

  // `v` in layout `want`, created right after v's definition (shared by all such users).
  //
  // Two exceptions keep registers and shared memory traffic down:
  //  * B operands of dots (replicated in every warp along M) are converted right before the
  //    dot (by `user`), so their fragments are not live across unrelated code or whole loops;
  //  * a single-use load / broadcast / expand_dims is re-created in the wanted layout instead
  //    of converting its (larger) result: the conversion moves to the small source tile, or
  //    disappears for loads.
  Value materialize(Value v, Attribute want, Operation* user = nullptr) {
    if (!cheap_.count(v) && tensorType(v).getEncoding() == want) return v;
    auto dot = dyn_cast<tg::DotOperandAttr>(want);
    bool atUser = user && dot && dot.getOpIdx() == 1 && !cheap_.count(v);
    auto key = std::make_pair(v, want);
    if (!atUser)
      if (auto it = materialized_.find(key); it != materialized_.end()) return it->second;
    OpBuilder b(ctx_);
    if (atUser) b.setInsertionPoint(user);
    else if (auto arg = dyn_cast<BlockArgument>(v)) b.setInsertionPointToStart(arg.getOwner());
    else b.setInsertionPointAfter(v.getDefiningOp());
    Value out;
    Operation* def = v.getDefiningOp();
    if (cheap_.count(v)) {
      out = cloneCheap(v, want, b);
    } else if (!dot && def && v.hasOneUse() && isa<ti::LoadBlockOp, ti::LoadOp, ti::BroadcastOp, ti::ExpandDimsOp>(def)) {
      out = cloneCheap(v, want, b);
      dead_.insert(def);
    } else {
      out = b.create<tg::ConvertLayoutOp>(v.getLoc(), withLayout(tensorType(v), want), v);
    }
    if (!atUser) materialized_[key] = out;
    return out;
  }

  Value cloneCheap(Value v, Attribute want, OpBuilder& b) {
    Operation* def = v.getDefiningOp();
    // Operands first: cloning before would add a use to them (use counts matter above).
    SmallVector<Value> operands(def->getOperands());
    for (unsigned i = 0; i < def->getNumOperands(); ++i)
      if (tensorType(operands[i])) operands[i] = materialize(operands[i], requiredLayout(def, i, want));
    Operation* clone = b.clone(*def);
    clone->setOperands(operands);
    clone->getResult(0).setType(withLayout(tensorType(v), want));
    if (auto cst = dyn_cast<arith::ConstantOp>(clone)) {
      auto dense = cast<DenseElementsAttr>(cst.getValue());
      cst.setValueAttr(dense.reshape(withLayout(tensorType(v), want)));
    }
    return clone->getResult(0);
  }

  LogicalResult rewrite() {
    SmallVector<Operation*> ops;
    func_.getBody().walk<WalkOrder::PreOrder>([&](Operation* op) { ops.push_back(op); });
    SmallVector<Operation*> cheapOps;
    for (Operation* op : ops) {
      if (op->getNumResults() == 1 && cheap_.count(op->getResult(0))) {
        cheapOps.push_back(op);
        continue;
      }
      for (Value res : op->getResults())
        if (auto t = tensorType(res)) res.setType(withLayout(t, layout_.lookup(res)));
      if (auto forOp = dyn_cast<scf::ForOp>(op))
        for (Value arg : forOp.getRegionIterArgs())
          if (auto t = tensorType(arg)) arg.setType(withLayout(t, layout_.lookup(arg)));
      Attribute resultLayout;
      if (op->getNumResults() == 1 && tensorType(op->getResult(0))) resultLayout = layout_.lookup(op->getResult(0));
      for (unsigned i = 0; i < op->getNumOperands(); ++i) {
        Value v = op->getOperand(i);
        if (!tensorType(v)) continue;
        Attribute want = requiredLayout(op, i, resultLayout);
        if (!want) want = cheap_.count(v) ? defaultFor(tensorType(v)) : tensorType(v).getEncoding();
        op->setOperand(i, materialize(v, want, op));
      }
      if (auto red = dyn_cast<ti::ReduceOp>(op)) {
        OpBuilder b(op);
        auto repl = b.create<tg::ReduceOp>(op->getLoc(), op->getResult(0).getType(), red.getSrc(),
                                           red.getAxisAttr(), red.getKindAttr());
        op->getResult(0).replaceAllUsesWith(repl.getResult());
        op->erase();
      }
    }
    for (Operation* op : llvm::reverse(cheapOps)) {
      if (!op->use_empty()) return op->emitOpError("tile-assign-layouts: internal error, cheap value still used");
      op->erase();
    }
    // Ops replaced by re-created copies, and conversions that only fed them. A set: an op can be
    // queued twice (a re-created broadcast queues its expand_dims, which materialize() may
    // already have queued), and erasing it twice is a use-after-free.
    while (!dead_.empty()) {
      Operation* op = dead_.pop_back_val();
      if (!op->use_empty()) continue;
      for (Value operand : op->getOperands())
        if (auto def = operand.getDefiningOp())
          if (operand.hasOneUse() && isa<tg::ConvertLayoutOp, ti::BroadcastOp, ti::ExpandDimsOp>(def)) dead_.insert(def);
      op->erase();
    }
    return success();
  }

  func::FuncOp func_;
  MLIRContext* ctx_;
  unsigned numWarps_;
  DenseSet<Value> cheap_;
  DenseMap<Value, Attribute> layout_;
  DenseMap<Operation*, Attribute> opLayout_;
  llvm::SetVector<Operation*> dead_;
  bool hasReduce_ = false;
  std::map<std::pair<Value, Attribute>, Value,
           std::function<bool(const std::pair<Value, Attribute>&, const std::pair<Value, Attribute>&)>>
      materialized_{[](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first.getAsOpaquePointer() < b.first.getAsOpaquePointer();
        return a.second.getAsOpaquePointer() < b.second.getAsOpaquePointer();
      }};
};

struct AssignLayoutsPass : PassWrapper<AssignLayoutsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(AssignLayoutsPass)
  StringRef getArgument() const override { return "tile-assign-layouts"; }
  StringRef getDescription() const override {
    return "Give every tile of a kernel a tilegpu layout, inserting convert_layout where needed";
  }
  void getDependentDialects(DialectRegistry& registry) const override { registry.insert<tg::TilegpuDialect>(); }
  void runOnOperation() override {
    for (auto f : llvm::make_early_inc_range(getOperation().getOps<func::FuncOp>())) {
      if (!f->hasAttr(ti::kKernelAttr)) continue;
      unsigned nw = 4;
      if (auto a = f->getAttrOfType<IntegerAttr>(ti::kNumWarpsAttr)) nw = unsigned(a.getInt());
      if (nw == 0 || (nw & (nw - 1)) != 0) {
        f.emitOpError("tile.num_warps must be a power of two, got ") << nw;
        return signalPassFailure();
      }
      if (failed(LayoutAssigner(f, nw).run())) return signalPassFailure();
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createAssignLayoutsPass() { return std::make_unique<AssignLayoutsPass>(); }

}  // namespace tile::lowering
