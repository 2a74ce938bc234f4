// Helpers shared by the global-memory emitters (emit_memory.cc) and the software pipeliner
// (emit_pipeline.cc): addresses, predicated execution, block accesses.
#pragma once

#include <functional>
#include <map>

#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

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

// scf.if `cond` yielding `types`, with both branches built by callbacks.
inline SmallVector<Value> ifElse(OpBuilder& b, Location loc, TypeRange types, Value cond,
                          const std::function<SmallVector<Value>()>& thenFn,
                          const std::function<SmallVector<Value>()>& elseFn) {
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

inline Value andAll(OpBuilder& b, Location loc, Value x, Value y) { return x ? b.create<arith::AndIOp>(loc, x, y) : y; }

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
  // True (uniformly) when `vec`-element vectors are aligned and never straddle the bounds.
  Value vectorOk(int64_t vec) {
    OpBuilder& b = e.b;
    int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    auto divisible = [&](Value v, int64_t k) {
      Value rem = b.create<arith::AndIOp>(loc, v, b.create<arith::ConstantIntOp>(loc, v.getType(), k - 1));
      return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rem, b.create<arith::ConstantIntOp>(loc, v.getType(), 0));
    };
    int last = int(l.rank()) - 1;
    Value ok = divisible(b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), ptr), vec * bytes);
    ok = b.create<arith::AndIOp>(loc, ok, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, strides[last], e.i32(1)));
    ok = b.create<arith::AndIOp>(loc, ok, divisible(shape[last], vec));
    ok = b.create<arith::AndIOp>(loc, ok, divisible(offsets[last], vec));
    for (int d = 0; d < last; ++d) ok = b.create<arith::AndIOp>(loc, ok, divisible(strides[d], vec));
    return ok;
  }
};


}  // namespace tile::lowering
