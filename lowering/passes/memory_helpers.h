// Helpers shared by the global-memory emitters (emit_memory.cc) and the software pipeliner
// (emit_pipeline.cc): addresses, predicated execution, block accesses.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "lowering/passes/axis_info.h"
#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

namespace tile::lowering {

using mlir::Location;
using mlir::OpBuilder;
using mlir::SmallVector;
using mlir::Type;
using mlir::TypedAttr;
using mlir::TypeRange;
using mlir::Value;
using mlir::ValueRange;
namespace arith = mlir::arith;
namespace scf = mlir::scf;
namespace LLVM = mlir::LLVM;

inline Value elemPtr(OpBuilder& b, Location loc, Value ptr, Type elem, Value index) {
  return b.create<LLVM::GEPOp>(loc, ptr.getType(), elem, ptr, ValueRange{index});
}

// The value of an i1 known at compile time (an arith.constant), else nothing.
inline std::optional<bool> constantBool(Value v) {
  llvm::APInt c;
  if (!mlir::matchPattern(v, mlir::m_ConstantInt(&c))) return std::nullopt;
  return !c.isZero();
}

// scf.if `cond` yielding `types`, with both branches built by callbacks.
// A constant condition emits only the branch it takes.
inline SmallVector<Value> ifElse(OpBuilder& b, Location loc, TypeRange types, Value cond,
                          const std::function<SmallVector<Value>()>& thenFn,
                          const std::function<SmallVector<Value>()>& elseFn) {
  if (std::optional<bool> c = constantBool(cond)) return *c ? thenFn() : elseFn();
  auto ifOp = b.create<scf::IfOp>(loc, types, cond, /*withElseRegion=*/true);
  for (auto [region, fn] : {std::make_pair(&ifOp.getThenRegion(), &thenFn), std::make_pair(&ifOp.getElseRegion(), &elseFn)}) {
    mlir::Block* blk = &region->front();
    if (!blk->empty()) blk->back().erase();
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToEnd(blk);
    b.create<scf::YieldOp>(loc, (*fn)());
  }
  return SmallVector<Value>(ifOp.getResults());
}

// Runs `body` only where `cond` holds.
inline void when(OpBuilder& b, Location loc, Value cond, const std::function<void()>& body) {
  if (std::optional<bool> c = constantBool(cond)) {
    if (*c) body();
    return;
  }
  auto ifOp = b.create<scf::IfOp>(loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body();
}

// An inline-asm instruction with side effects and no results (barriers, mbarrier and TMA ops).
inline void inlineAsm(OpBuilder& b, Location loc, llvm::StringRef text, llvm::StringRef constraints, ValueRange operands) {
  b.create<LLVM::InlineAsmOp>(loc, TypeRange{}, operands, text, constraints, /*has_side_effects=*/true,
                              /*is_align_stack=*/false, LLVM::TailCallKind::None, LLVM::AsmDialectAttr(),
                              mlir::ArrayAttr());
}

// 32-bit shared-window address of byte `offset` of the kernel's shared memory (the operand of
// mbarrier, TMA and bulk-copy instructions).
inline Value sharedAddress(KernelEmitter& e, Location loc, Value offset) {
  return e.b.create<LLVM::PtrToIntOp>(loc, e.b.getI32Type(), e.smemAbsolute(offset));
}
inline Value sharedAddress(KernelEmitter& e, Location loc, int64_t offset) { return sharedAddress(e, loc, e.i32(offset)); }

inline Value maskedLoad(OpBuilder& b, Location loc, Type t, Value addr, Value mask, Value other, unsigned align) {
  if (!mask) return b.create<LLVM::LoadOp>(loc, t, addr, align);
  return ifElse(
      b, loc, t, mask, [&] { return SmallVector<Value>{b.create<LLVM::LoadOp>(loc, t, addr, align)}; },
      [&] { return SmallVector<Value>{other}; })[0];
}

// x && y (x may be null); a constant true operand folds away, so that conditions the facts
// decide stay constants and ifElse / when emit only the branch taken.
inline Value andAll(OpBuilder& b, Location loc, Value x, Value y) {
  if (!x || constantBool(x) == true) return y;
  if (constantBool(y) == true) return x;
  return b.create<arith::AndIOp>(loc, x, y);
}

inline TypedAttr scalarAttr(Type elem, double v) {
  if (auto f = mlir::dyn_cast<mlir::FloatType>(elem)) return mlir::FloatAttr::get(f, v);
  return mlir::IntegerAttr::get(elem, int64_t(v));
}

// One load_block / store_block: per-dimension address terms and bounds, then per register.
struct BlockAccess {
  KernelEmitter& e;
  Location loc;
  Value ptr;
  SmallVector<Value> shape, strides, offsets;
  Type elem;
  LinearLayout l;
  // Per (dim, register coordinate): in-bounds bit and 64-bit element offset.
  std::map<std::pair<int, int64_t>, std::pair<Value, Value>> terms;
  // The op's own (tile-IR) operands, whose facts (constants, the kernel's argument assumptions:
  // axis_info.h) decide parts of vectorOk at compile time; empty when unknown.
  Value irPtr;
  SmallVector<Value> irShape, irStrides, irOffsets;

  template <typename OpT>
  void setSource(OpT op) {
    irPtr = op.getPtr();
    irShape.assign(op.getShape().begin(), op.getShape().end());
    irStrides.assign(op.getStrides().begin(), op.getStrides().end());
    irOffsets.assign(op.getOffsets().begin(), op.getOffsets().end());
  }

  std::pair<Value, Value> term(int d, int64_t rc) {
    auto key = std::make_pair(d, rc);
    if (auto it = terms.find(key); it != terms.end()) return it->second;
    OpBuilder& b = e.b;
    Value c = e.threadCoord(l)[d];
    if (rc) c = b.create<arith::OrIOp>(loc, c, e.i32(rc));
    Value g = b.create<arith::AddIOp>(loc, offsets[d], c);
    Value inb = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, g, shape[d]);
    Value idx = b.create<arith::MulIOp>(loc, b.create<arith::ExtSIOp>(loc, b.getI64Type(), g),
                                        b.create<arith::ExtSIOp>(loc, b.getI64Type(), strides[d]));
    return terms[key] = {inb, idx};
  }
  // (in bounds, address) of register r.
  std::pair<Value, Value> at(int64_t r) {
    Coord rc = l.regCoord(r);
    Value inb, idx;
    for (int d = 0; d < l.rank(); ++d) {
      auto [bi, ii] = term(d, rc[d]);
      inb = andAll(e.b, loc, inb, bi);
      idx = idx ? e.b.create<arith::AddIOp>(loc, idx, ii).getResult() : ii;
    }
    return {inb, elemPtr(e.b, loc, ptr, elem, idx)};
  }
  int64_t vectorWidth() {
    int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    return std::min<int64_t>(contiguityAlong(l, int(l.rank()) - 1), 16 / bytes);
  }
  // True (uniformly) when `vec`-element vectors are aligned and never straddle the bounds: a
  // constant when the facts of the op's operands decide every part (then the caller's other
  // branch is never emitted).
  Value vectorOk(int64_t vec) {
    OpBuilder& b = e.b;
    int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    Value ok;
    auto need = [&](Value cond) { ok = andAll(b, loc, ok, cond); };
    auto divisible = [&](Value v, int64_t k) {
      Value rem = b.create<arith::AndIOp>(loc, v, b.create<arith::ConstantIntOp>(loc, v.getType(), k - 1));
      return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rem, b.create<arith::ConstantIntOp>(loc, v.getType(), 0));
    };
    auto knownMultiple = [&](const SmallVector<Value>& ir, int d, int64_t k) {
      return size_t(d) < ir.size() && knownDivisor(ir[size_t(d)]) % k == 0;
    };
    int last = int(l.rank()) - 1;
    if (!(irPtr && knownAlignment(irPtr) % (vec * bytes) == 0))
      need(divisible(b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), ptr), vec * bytes));
    if (!(size_t(last) < irStrides.size() && knownEqual(irStrides[size_t(last)], 1)))
      need(b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, strides[last], e.i32(1)));
    if (!knownMultiple(irShape, last, vec)) need(divisible(shape[last], vec));
    if (!knownMultiple(irOffsets, last, vec)) need(divisible(offsets[last], vec));
    for (int d = 0; d < last; ++d)
      if (!knownMultiple(irStrides, d, vec)) need(divisible(strides[d], vec));
    return ok ? ok : b.create<arith::ConstantIntOp>(loc, b.getI1Type(), 1).getResult();
  }
};

// The block access of a load_block / store_block / atomic_add_block `op` of a `tileType` tile:
// its operands' registers and the op as the source of their facts.
template <typename OpT>
mlir::FailureOr<BlockAccess> blockAccess(KernelEmitter& e, OpT op, mlir::RankedTensorType tileType) {
  std::string why;
  auto l = layoutOf(tileType, &why);
  if (mlir::failed(l)) return op->emitOpError(why), mlir::failure();
  BlockAccess a{e, op->getLoc(), e.scalar(op.getPtr()), {}, {}, {}, tileType.getElementType(), *l, {}};
  for (Value v : op.getShape()) a.shape.push_back(e.scalar(v));
  for (Value v : op.getStrides()) a.strides.push_back(e.scalar(v));
  for (Value v : op.getOffsets()) a.offsets.push_back(e.scalar(v));
  a.setSource(op);
  return a;
}


}  // namespace tile::lowering
