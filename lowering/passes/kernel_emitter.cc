// Core of the per-thread code emitter: value mapping, thread coordinates, control flow,
// elementwise math and shape ops (splat, arange, broadcast, expand_dims, trans).
#include "lowering/passes/kernel_emitter.h"

#include "lowering/passes/async_ptx.h"
#include "lowering/passes/emit_bulk_reduce.h"

#include "lowering/passes/smem_tile.h"

#include <optional>

#include "dsl/ir/TileDialect.h"
#include "llvm/Support/MathExtras.h"
#include "lowering/ir/TilegpuDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
namespace ti = tile::ir;
namespace tg = tile::gpu;

namespace tile::lowering {

Type llvmPtr(MLIRContext* ctx, unsigned addressSpace) { return LLVM::LLVMPointerType::get(ctx, addressSpace); }

Value packPair(OpBuilder& b, Location loc, Value lo, Value hi, bool asI32) {
  auto vt = VectorType::get({2}, lo.getType());
  Value v = b.create<LLVM::PoisonOp>(loc, vt);
  v = b.create<LLVM::InsertElementOp>(loc, v, lo, b.create<arith::ConstantIntOp>(loc, b.getI32Type(), 0));
  v = b.create<LLVM::InsertElementOp>(loc, v, hi, b.create<arith::ConstantIntOp>(loc, b.getI32Type(), 1));
  return asI32 ? b.create<LLVM::BitcastOp>(loc, b.getI32Type(), v).getResult() : v;
}

Value KernelEmitter::i32(int64_t v) { return b.create<arith::ConstantIntOp>(b.getUnknownLoc(), b.getI32Type(), v); }
Value KernelEmitter::i64(int64_t v) { return b.create<arith::ConstantIntOp>(b.getUnknownLoc(), b.getI64Type(), v); }

Value KernelEmitter::castIndexToI32(Value v) {
  return b.create<arith::IndexCastOp>(v.getLoc(), b.getI32Type(), v);
}

Value KernelEmitter::lane() {
  if (!lane_) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(prologue_);
    lane_ = b.create<arith::AndIOp>(tid_.getLoc(), tid_, i32(31));
  }
  return lane_;
}

Value KernelEmitter::warp() {
  if (!warp_) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(prologue_);
    warp_ = b.create<arith::ShRUIOp>(tid_.getLoc(), tid_, i32(5));
  }
  return warp_;
}

// Sum of the contributions of the lane (optional) and warp bits to coordinate `dim`; emitted
// once in the prologue (it only depends on the thread id).
Value KernelEmitter::threadPart(const LinearLayout& l, int dim, bool withLanes) {
  Value ln = lane(), wp = warp();
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(prologue_);
  Location loc = b.getUnknownLoc();
  Value acc = i32(0);
  auto addBits = [&](const std::vector<Coord>& bases, Value id) {
    for (size_t bit = 0; bit < bases.size(); ++bit) {
      int64_t v = bases[bit][dim];
      if (!v) continue;
      Value m = b.create<arith::AndIOp>(loc, id, i32(int64_t(1) << bit));
      int shift = int(llvm::Log2_64(uint64_t(v))) - int(bit);
      if (shift > 0) m = b.create<arith::ShLIOp>(loc, m, i32(shift));
      if (shift < 0) m = b.create<arith::ShRUIOp>(loc, m, i32(-shift));
      acc = b.create<arith::OrIOp>(loc, acc, m);
    }
  };
  if (withLanes) addBits(l.lane, ln);
  addBits(l.warp, wp);
  return acc;
}

SmallVector<Value> KernelEmitter::threadCoord(const LinearLayout& l) {
  std::string key = "t" + l.str();
  auto it = coordCache_.find(key);
  if (it != coordCache_.end()) return it->second;
  SmallVector<Value> c;
  for (int d = 0; d < l.rank(); ++d) c.push_back(threadPart(l, d, true));
  return coordCache_[key] = c;
}

SmallVector<Value> KernelEmitter::warpCoord(const LinearLayout& l) {
  std::string key = "w" + l.str();
  auto it = coordCache_.find(key);
  if (it != coordCache_.end()) return it->second;
  SmallVector<Value> c;
  for (int d = 0; d < l.rank(); ++d) c.push_back(threadPart(l, d, false));
  return coordCache_[key] = c;
}

SmallVector<Value> KernelEmitter::elemCoord(const LinearLayout& l, int64_t r) {
  SmallVector<Value> c = threadCoord(l);
  Coord rc = l.regCoord(r);
  for (int d = 0; d < l.rank(); ++d)
    if (rc[d]) c[d] = b.create<arith::OrIOp>(b.getUnknownLoc(), c[d], i32(rc[d]));
  return c;
}

Value KernelEmitter::ownerPredicate(const LinearLayout& l) {
  auto zeroMask = [](const std::vector<Coord>& bases) {
    int64_t m = 0;
    for (size_t bit = 0; bit < bases.size(); ++bit)
      if (baseDim(bases[bit]).first < 0) m |= int64_t(1) << bit;
    return m;
  };
  int64_t laneMask = zeroMask(l.lane), warpMask = zeroMask(l.warp);
  std::string key = std::to_string(laneMask) + "/" + std::to_string(warpMask);
  if (auto it = predCache_.find(key); it != predCache_.end()) return it->second;
  Value ln = lane(), wp = warp();
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(prologue_);
  Location loc = b.getUnknownLoc();
  Value pred = b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 1);
  for (auto [id, mask] : {std::make_pair(ln, laneMask), std::make_pair(wp, warpMask)}) {
    if (!mask) continue;
    Value bits = b.create<arith::AndIOp>(loc, id, i32(mask));
    pred = b.create<arith::AndIOp>(loc, pred, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, bits, i32(0)));
  }
  return predCache_[key] = pred;
}

Value KernelEmitter::smemAbsolute(Value byteOffset) {
  return b.create<LLVM::GEPOp>(b.getUnknownLoc(), smem_.getType(), b.getI8Type(), smem_, ValueRange{byteOffset});
}

Value KernelEmitter::smemAt(Value byteOffset) {
  if (scratchBase_) byteOffset = b.create<arith::AddIOp>(b.getUnknownLoc(), byteOffset, i32(scratchBase_));
  return smemAbsolute(byteOffset);
}

std::optional<SmemTile> KernelEmitter::pipelinedSource(Operation* convert) {
  auto it = pipelineReads.find(convert);
  if (it == pipelineReads.end()) return std::nullopt;
  return *it->second;
}

// ---- control flow ---------------------------------------------------------------------------

LogicalResult KernelEmitter::emitBlock(Block& block) {
  for (Operation& op : block) {
    if (auto y = dyn_cast<scf::YieldOp>(op)) {
      SmallVector<Value> flat;
      for (Value v : y.getOperands()) llvm::append_range(flat, regs(v));
      b.create<scf::YieldOp>(op.getLoc(), flat);
    } else if (isa<func::ReturnOp>(op)) {
      if (!bulkReduceOffset.empty()) emitBulkReduceDrain(*this, op.getLoc());
      if (!skipReturn) b.create<mlir::gpu::ReturnOp>(op.getLoc());
    } else if (failed(emitOp(&op))) {
      return failure();
    }
  }
  return success();
}

// Types a value of type `t` becomes: a tile, one element-typed scalar per register.
static LogicalResult flatTypes(Operation* op, Type t, SmallVector<Type>& out) {
  if (auto tt = dyn_cast<RankedTensorType>(t)) {
    std::string why;
    auto l = layoutOf(tt, &why);
    if (failed(l)) return op->emitOpError(why);
    out.append(size_t(l->numRegs()), tt.getElementType());
  } else if (isa<ti::PtrType>(t)) {
    out.push_back(llvmPtr(op->getContext(), 1));
  } else {
    out.push_back(t);
  }
  return success();
}

// Splits `flat` into the groups `values` map to.
static void unflatten(KernelEmitter& e, ValueRange values, ValueRange flat, ArrayRef<unsigned> counts) {
  size_t at = 0;
  for (auto [v, n] : llvm::zip(values, counts)) {
    e.setRegs(v, SmallVector<Value>(flat.begin() + at, flat.begin() + at + n));
    at += n;
  }
}

LogicalResult KernelEmitter::emitFor(Operation* op) {
  // Conversions anywhere in the loop nest staged once before it (convert_to_gpu.cc).
  SmallVector<Operation*> hoisted;
  op->walk([&](Operation* inner) {
    if (hoistedStaging.lookup(inner) == op) hoisted.push_back(inner);
  });
  for (Operation* inner : hoisted) {
    // A trans in the loop of a tile from outside it only renames registers: emit it first.
    if (auto tr = inner->getOperand(0).getDefiningOp<ti::TransOp>(); tr && !stagingAlias.count(inner))
      if (failed(emitOp(tr))) return failure();
    if (failed(emitConvertLayout(*this, inner))) return failure();
  }
  bool pipelined = false;
  if (failed(emitPipelinedFor(*this, op, pipelined))) return failure();
  if (pipelined) return success();
  auto forOp = cast<scf::ForOp>(op);
  SmallVector<Value> inits;
  SmallVector<unsigned> counts;
  for (Value v : forOp.getInitArgs()) {
    llvm::append_range(inits, regs(v));
    counts.push_back(regs(v).size());
  }
  auto newFor = b.create<scf::ForOp>(op->getLoc(), scalar(forOp.getLowerBound()), scalar(forOp.getUpperBound()),
                                     scalar(forOp.getStep()), inits);
  Block* body = newFor.getBody();
  if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>()) body->back().erase();
  setRegs(forOp.getInductionVar(), {newFor.getInductionVar()});
  unflatten(*this, forOp.getRegionIterArgs(), newFor.getRegionIterArgs(), counts);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(body);
    // Every loop computes its thread values per iteration (enterIterationScope), rather than
    // LLVM hoisting them out of it and holding them over the loop nest: a loop over tiles as a
    // kernel of one tile would at its start (ptxas, bf16 persistent forward: d=256 152 -> 100 B
    // of spills, ragged d=128 616 -> 460 B), a masked loop its mask's coordinates
    // (document_mask's forward 720 -> 292 B).
    ThreadScope saved = enterIterationScope(op->getLoc());
    LogicalResult emitted = emitBlock(*forOp.getBody());
    leaveIterationScope(std::move(saved));
    if (failed(emitted)) return failure();
  }
  unflatten(*this, forOp.getResults(), newFor.getResults(), counts);
  return success();
}

KernelEmitter::ThreadScope KernelEmitter::enterIterationScope(Location loc) {
  ThreadScope saved{prologue_, tid_, lane_, warp_, std::move(coordCache_), std::move(predCache_), {}};
  coordCache_.clear(), predCache_.clear();
  auto opaque = [&](Value v, const char* text, const char* constraints) {
    return b.create<LLVM::InlineAsmOp>(loc, v.getType(), ValueRange{v}, text, constraints, /*has_side_effects=*/true,
                                       /*is_align_stack=*/false, LLVM::TailCallKind::None, LLVM::AsmDialectAttr(),
                                       mlir::ArrayAttr())
        .getResult(0);
  };
  tid_ = opaque(saved.tid, ptx::kOpaqueB32, "=r,r");
  for (Value arg : kernelArgs) {
    Value v = scalar(arg);
    saved.args.push_back(v);
    Value copy;
    if (v.getType().isInteger(32)) copy = opaque(v, ptx::kOpaqueB32, "=r,r");
    else if (v.getType().isF32()) copy = opaque(v, ptx::kOpaqueF32, "=f,f");
    else if (v.getType().isInteger(64)) copy = opaque(v, ptx::kOpaqueB64, "=l,l");
    else if (isa<LLVM::LLVMPointerType>(v.getType())) {
      Value bits = opaque(b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), v), ptx::kOpaqueB64, "=l,l");
      copy = b.create<LLVM::IntToPtrOp>(loc, v.getType(), bits);
    }
    setRegs(arg, {copy ? copy : v});
  }
  lane_ = warp_ = Value();
  prologue_ = b.create<arith::ConstantIntOp>(loc, b.getI32Type(), 0);  // anchor: the iteration's values go before it
  return saved;
}

void KernelEmitter::leaveIterationScope(ThreadScope saved) {
  prologue_ = saved.prologue, tid_ = saved.tid, lane_ = saved.lane, warp_ = saved.warp;
  for (auto [arg, v] : llvm::zip(kernelArgs, saved.args)) setRegs(arg, {v});
  coordCache_ = std::move(saved.coords), predCache_ = std::move(saved.preds);
}

LogicalResult KernelEmitter::emitIf(Operation* op) {
  auto ifOp = cast<scf::IfOp>(op);
  SmallVector<Type> types;
  SmallVector<unsigned> counts;
  for (Type t : ifOp.getResultTypes()) {
    size_t before = types.size();
    if (failed(flatTypes(op, t, types))) return failure();
    counts.push_back(unsigned(types.size() - before));
  }
  bool hasElse = !ifOp.getElseRegion().empty();
  auto newIf = b.create<scf::IfOp>(op->getLoc(), types, scalar(ifOp.getCondition()), hasElse);
  for (auto [src, dst] : {std::make_pair(&ifOp.getThenRegion(), &newIf.getThenRegion()),
                          std::make_pair(&ifOp.getElseRegion(), &newIf.getElseRegion())}) {
    if (src->empty()) continue;
    Block* body = &dst->front();
    if (!body->empty() && body->back().hasTrait<OpTrait::IsTerminator>()) body->back().erase();
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(body);
    if (failed(emitBlock(src->front()))) return failure();
  }
  unflatten(*this, ifOp.getResults(), newIf.getResults(), counts);
  return success();
}

// ---- elementwise and scalar ops --------------------------------------------------------------

// One PTX instruction on an f32 (ex2/lg2/tanh.approx are what CUDA's fast-math intrinsics use).
// exp2 is `ex2.approx.ftz`, as exp2f under --use_fast_math: results below 2^-126 flush to zero.
// Without .ftz ptxas wraps every MUFU.EX2 in a range test and two multiplies, which in the
// attention forward costs more issue slots than the exponential itself.
static constexpr const char* kExp2 = "ex2.approx.ftz.f32";
static Value ptxUnary(OpBuilder& b, Location loc, StringRef ptx, Value x) {
  auto asmOp = b.create<LLVM::InlineAsmOp>(loc, x.getType(), ValueRange{x}, (ptx + " $0, $1;").str(), "=f,f",
                                           /*has_side_effects=*/false, /*is_align_stack=*/false,
                                           LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr());
  return asmOp.getResult(0);
}

// tanh on f32 to ~3e-6 relative error (tanh.approx's ~5e-4 would show in softcapped scores):
// sign(x) (1 - e) / (1 + e) with e = 2^(-2|x| log2 e) in (0, 1], and the Taylor series
// x (1 - x²/3 + 2x⁴/15 - 17x⁶/315) below |x| = 1/8, where that quotient cancels.
static Value emitTanh(OpBuilder& b, Location loc, Value x) {
  auto c = [&](double v) { return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(float(v))).getResult(); };
  Value a = ptxUnary(b, loc, "abs.f32", x);
  Value e = ptxUnary(b, loc, kExp2, b.create<arith::MulFOp>(loc, a, c(-2.0 * 1.4426950408889634)));
  Value big = b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, c(1.0), e), b.create<arith::AddFOp>(loc, c(1.0), e));
  Value negative = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, c(0.0));
  big = b.create<arith::SelectOp>(loc, negative, b.create<arith::NegFOp>(loc, big), big);
  Value x2 = b.create<arith::MulFOp>(loc, x, x);
  Value p = c(-17.0 / 315.0);
  for (double k : {2.0 / 15.0, -1.0 / 3.0, 1.0}) p = b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, p, x2), c(k));
  Value small = b.create<arith::MulFOp>(loc, x, p);
  Value is_small = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, a, c(0.125));
  return b.create<arith::SelectOp>(loc, is_small, small, big);
}

static Value emitScalarMath(OpBuilder& b, Operation* op, ValueRange operands, Type resultType) {
  Location loc = op->getLoc();
  // 16-bit transcendentals: computed in f32 (the hardware approximations are f32).
  if ((resultType.isF16() || resultType.isBF16()) && operands.size() == 1 &&
      isa<math::Exp2Op, math::ExpOp, math::Log2Op, math::LogOp, math::TanhOp, math::SqrtOp, math::RsqrtOp,
          math::AbsFOp>(op)) {
    Value wide = b.create<arith::ExtFOp>(loc, b.getF32Type(), operands[0]);
    Value r = emitScalarMath(b, op, ValueRange{wide}, b.getF32Type());
    return b.create<arith::TruncFOp>(loc, resultType, r);
  }
  if (resultType.isF32() && operands.size() == 1) {
    Value x = operands[0];
    auto scaled = [&](double k) {
      return b.create<arith::MulFOp>(loc, x, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(float(k))));
    };
    if (isa<math::Exp2Op>(op)) return ptxUnary(b, loc, kExp2, x);
    if (isa<math::ExpOp>(op)) return ptxUnary(b, loc, kExp2, scaled(1.4426950408889634));
    if (isa<math::Log2Op>(op)) return ptxUnary(b, loc, "lg2.approx.f32", x);
    if (isa<math::LogOp>(op)) {
      Value l2 = ptxUnary(b, loc, "lg2.approx.f32", x);
      return b.create<arith::MulFOp>(loc, l2, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0.6931471805599453f)));
    }
    // Left as math ops the rest would become libdevice calls (__nv_tanhf, __nv_fabsf, ...), which
    // the back end does not link: PTX instructions (abs and sqrt.rn are exact) or arithmetic.
    if (isa<math::TanhOp>(op)) return emitTanh(b, loc, x);
    if (isa<math::RsqrtOp>(op)) return ptxUnary(b, loc, "rsqrt.approx.f32", x);
    if (isa<math::SqrtOp>(op)) return ptxUnary(b, loc, "sqrt.rn.f32", x);
    if (isa<math::AbsFOp>(op)) return ptxUnary(b, loc, "abs.f32", x);
  }
  OperationState st(loc, op->getName());
  st.addOperands(operands);
  st.addAttributes(op->getAttrs());
  st.addTypes(resultType);
  return b.create(st)->getResult(0);
}

namespace {
// An i32 register as base + constant (base null when the register is a constant).
struct OffsetForm {
  Value base;
  int64_t offset = 0;
};
OffsetForm offsetForm(Value v) {
  auto constant = [](Value x) -> std::optional<int64_t> {
    if (auto c = x.getDefiningOp<arith::ConstantIntOp>()) return c.value();
    return std::nullopt;
  };
  if (auto c = constant(v)) return {Value(), *c};
  if (auto add = v.getDefiningOp<arith::AddIOp>()) {
    if (auto c = constant(add.getRhs())) return {add.getLhs(), *c};
    if (auto c = constant(add.getLhs())) return {add.getRhs(), *c};
  }
  if (auto sub = v.getDefiningOp<arith::SubIOp>())
    if (auto c = constant(sub.getRhs())) return {sub.getLhs(), -*c};
  return {v, 0};
}
}  // namespace

// Integer add/sub of tiles whose registers are base + constant (arange, and what is built from
// it: key columns n0 + arange, the mask's j - i - diag) combine the bases once and keep each
// register's constant as an immediate: ((lane + c) + n0) becomes ((lane + n0) + c). Otherwise
// LLVM hoists the per-register values lane + c out of the key loops and keeps tens of them live
// across the whole loop nest. Exact in wrapping i32 arithmetic.
LogicalResult KernelEmitter::emitOffsetArith(Operation* op, int64_t numRegs) {
  Location loc = op->getLoc();
  const bool sub = isa<arith::SubIOp>(op);
  auto operandReg = [&](Value v, int64_t r) { return isa<RankedTensorType>(v.getType()) ? regs(v)[r] : regs(v)[0]; };
  DenseMap<std::pair<Value, Value>, Value> bases;
  SmallVector<Value> out;
  for (int64_t r = 0; r < numRegs; ++r) {
    OffsetForm a = offsetForm(operandReg(op->getOperand(0), r)), c = offsetForm(operandReg(op->getOperand(1), r));
    Value& base = bases[{a.base, c.base}];
    if (!base) {
      if (a.base && c.base) base = sub ? b.create<arith::SubIOp>(loc, a.base, c.base).getResult()
                                       : b.create<arith::AddIOp>(loc, a.base, c.base).getResult();
      else if (a.base) base = a.base;
      else if (c.base) base = sub ? b.create<arith::SubIOp>(loc, i32(0), c.base).getResult() : c.base;
    }
    int64_t offset = int64_t(int32_t(uint32_t(sub ? a.offset - c.offset : a.offset + c.offset)));
    if (!base) out.push_back(i32(offset));
    else if (offset == 0) out.push_back(base);
    else out.push_back(b.create<arith::AddIOp>(loc, base, i32(offset)));
  }
  setRegs(op->getResult(0), out);
  return success();
}

LogicalResult KernelEmitter::emitElementwise(Operation* op) {
  auto rt = cast<RankedTensorType>(op->getResult(0).getType());
  std::string why;
  auto l = layoutOf(rt, &why);
  if (failed(l)) return op->emitOpError(why);
  if (isa<arith::AddIOp, arith::SubIOp>(op) && rt.getElementType().isInteger(32))
    return emitOffsetArith(op, l->numRegs());
  SmallVector<Value> out;
  for (int64_t r = 0; r < l->numRegs(); ++r) {
    SmallVector<Value> operands;
    for (Value v : op->getOperands()) {
      auto& vr = regs(v);
      if (isa<RankedTensorType>(v.getType()) && int64_t(vr.size()) != l->numRegs())
        return op->emitOpError("operand layouts differ from the result's (missing convert_layout)");
      operands.push_back(isa<RankedTensorType>(v.getType()) ? vr[r] : vr[0]);
    }
    out.push_back(emitScalarMath(b, op, operands, rt.getElementType()));
  }
  setRegs(op->getResult(0), out);
  return success();
}

LogicalResult KernelEmitter::emitScalarOp(Operation* op) {
  IRMapping map;
  for (Value v : op->getOperands()) map.map(v, scalar(v));
  Operation* clone = b.clone(*op, map);
  for (auto [from, to] : llvm::zip(op->getResults(), clone->getResults())) setRegs(from, {to});
  return success();
}

// ---- shape ops: the data stays in its thread, only the register <-> coordinate map changes --

// Registers of `dst` read from registers of `src` through `toSrc` (a coordinate map that must
// carry dst's lane and warp bases onto src's).
static LogicalResult remap(KernelEmitter& e, Operation* op, Value src, Value dst,
                           const std::function<Coord(const Coord&)>& toSrc) {
  std::string why;
  auto sl = layoutOf(cast<RankedTensorType>(src.getType()), &why);
  auto dl = layoutOf(cast<RankedTensorType>(dst.getType()), &why);
  if (failed(sl) || failed(dl)) return op->emitOpError(why);
  for (size_t i = 0; i < dl->lane.size(); ++i)
    if (toSrc(dl->lane[i]) != sl->lane[i]) return op->emitOpError("source and result layouts do not match (lanes)");
  for (size_t i = 0; i < dl->warp.size(); ++i)
    if (toSrc(dl->warp[i]) != sl->warp[i]) return op->emitOpError("source and result layouts do not match (warps)");
  auto& in = e.regs(src);
  SmallVector<Value> out;
  for (int64_t r = 0; r < dl->numRegs(); ++r) {
    int64_t s = sl->regAt(toSrc(dl->regCoord(r)));
    if (s < 0) return op->emitOpError("source and result layouts do not match (registers)");
    out.push_back(in[s]);
  }
  e.setRegs(dst, out);
  return success();
}

LogicalResult KernelEmitter::emitOp(Operation* op) {
  Location loc = op->getLoc();
  if (isa<scf::ForOp>(op)) return emitFor(op);
  if (isa<scf::IfOp>(op)) return emitIf(op);
  if (isa<tg::ConvertLayoutOp>(op)) return emitConvertLayout(*this, op);
  if (isa<tg::ReduceOp>(op)) return emitReduce(*this, op);
  if (isa<ti::DotOp>(op)) return emitDot(*this, op);
  bool handled = false;
  if (failed(emitMemoryOp(*this, op, handled))) return failure();
  if (handled) return success();

  auto dim = [](int32_t axis) { return mlir::gpu::Dimension(axis); };
  if (auto pid = dyn_cast<ti::ProgramIdOp>(op)) {
    setRegs(pid, {castIndexToI32(b.create<mlir::gpu::BlockIdOp>(loc, dim(pid.getAxis())))});
    return success();
  }
  if (auto np = dyn_cast<ti::NumProgramsOp>(op)) {
    setRegs(np, {castIndexToI32(b.create<mlir::gpu::GridDimOp>(loc, dim(np.getAxis())))});
    return success();
  }
  if (op->getNumResults() == 1) {
    if (auto rt = dyn_cast<RankedTensorType>(op->getResult(0).getType())) {
      std::string why;
      auto l = layoutOf(rt, &why);
      if (failed(l)) return op->emitOpError(why);
      if (auto splat = dyn_cast<ti::SplatOp>(op)) {
        setRegs(splat, SmallVector<Value>(size_t(l->numRegs()), scalar(splat.getValue())));
        return success();
      }
      if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
        auto dense = dyn_cast<SplatElementsAttr>(cst.getValue());
        if (!dense) return op->emitOpError("only splat tensor constants are supported on the GPU");
        Value c = b.create<arith::ConstantOp>(loc, cast<TypedAttr>(dense.getSplatValue<Attribute>()));
        setRegs(cst, SmallVector<Value>(size_t(l->numRegs()), c));
        return success();
      }
      if (auto ar = dyn_cast<ti::ArangeOp>(op)) {
        SmallVector<Value> out;
        for (int64_t r = 0; r < l->numRegs(); ++r)
          // The lane and warp part and the register's own bits are disjoint, so the element
          // is the thread's coordinate plus a constant (kept as such: emitOffsetArith).
          out.push_back(b.create<arith::AddIOp>(loc, threadCoord(*l)[0], i32(l->regCoord(r)[0] + ar.getStart())));
        setRegs(ar, out);
        return success();
      }
      if (auto ex = dyn_cast<ti::ExpandDimsOp>(op)) {
        unsigned axis = unsigned(ex.getAxis());
        return remap(*this, op, ex.getSrc(), ex.getResult(), [axis](const Coord& c) {
          Coord s(c);
          s.erase(s.begin() + axis);
          return s;
        });
      }
      if (auto br = dyn_cast<ti::BroadcastOp>(op)) {
        auto st = br.getSrc().getType();
        return remap(*this, op, br.getSrc(), br.getResult(), [st](const Coord& c) {
          Coord s(c);
          for (int64_t d = 0; d < st.getRank(); ++d)
            if (st.getDimSize(d) == 1) s[d] = 0;
          return s;
        });
      }
      if (auto tr = dyn_cast<ti::TransOp>(op))
        return remap(*this, op, tr.getSrc(), tr.getResult(), [](const Coord& c) { return Coord{c[1], c[0]}; });
      StringRef ns = op->getDialect() ? op->getDialect()->getNamespace() : "";
      if ((ns == "arith" || ns == "math") && op->getNumRegions() == 0) return emitElementwise(op);
      return op->emitOpError("tile-convert-to-gpu: unsupported tile op");
    }
  }
  for (Type t : op->getOperandTypes())
    if (isa<RankedTensorType, ti::PtrType>(t)) return op->emitOpError("tile-convert-to-gpu: unsupported op");
  if (op->getNumRegions() != 0) return op->emitOpError("tile-convert-to-gpu: unsupported op with regions");
  return emitScalarOp(op);
}

}  // namespace tile::lowering
