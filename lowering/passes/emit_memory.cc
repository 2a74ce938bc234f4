// Global memory: pointers, block loads/stores (bounds-masked, 16-byte vectorised where a
// thread's elements are contiguous), gathers, scatters and atomics.
#include "dsl/ir/TileDialect.h"
#include "lowering/passes/async_ptx.h"
#include "lowering/passes/axis_info.h"
#include "lowering/passes/emit_bulk_reduce.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/memory_helpers.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {
namespace {

// One red.global.add.v2/v4.f32 of `vals` at `addr` (aligned to the vector; sm_90).
void emitVectorRed(OpBuilder& b, Location loc, Value addr, ArrayRef<Value> vals) {
  std::string text = ptx::kRedGlobalAddVectorF32 + std::to_string(vals.size()) + ".f32 [$0], {";
  std::string constraints = "l";
  SmallVector<Value> operands{b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), addr)};
  for (size_t j = 0; j < vals.size(); ++j) {
    text += (j ? ", $" : "$") + std::to_string(j + 1);
    constraints += ",f";
    operands.push_back(vals[j]);
  }
  inlineAsm(b, loc, text + "};", constraints + ",~{memory}", operands);
}

LogicalResult emitLoadBlock(KernelEmitter& e, ti::LoadBlockOp op) {
  auto tt = op.getResult().getType();
  auto acc = blockAccess(e, op, tt);
  if (failed(acc)) return failure();
  OpBuilder& b = e.b;
  Location loc = op.getLoc();
  Type elem = tt.getElementType();
  unsigned bytes = elem.getIntOrFloatBitWidth() / 8;
  Value pad = b.create<arith::ConstantOp>(loc, scalarAttr(elem, op.getPadding().convertToDouble()));
  int64_t n = acc->l.numRegs();
  auto scalarPath = [&] {
    SmallVector<Value> out;
    for (int64_t r = 0; r < n; ++r) {
      auto [inb, addr] = acc->at(r);
      out.push_back(maskedLoad(b, loc, elem, addr, inb, pad, bytes));
    }
    return out;
  };
  int64_t vec = acc->vectorWidth();
  if (vec < 2) {
    e.setRegs(op.getResult(), scalarPath());
    return success();
  }
  auto vt = VectorType::get({vec}, elem);
  auto vectorPath = [&] {
    SmallVector<Value> out(n);
    Value padVec = b.create<arith::ConstantOp>(loc, DenseElementsAttr::get(vt, scalarAttr(elem, op.getPadding().convertToDouble())));
    for (int64_t r = 0; r < n; r += vec) {
      auto [inb, addr] = acc->at(r);
      Value v = maskedLoad(b, loc, vt, addr, inb, padVec, unsigned(vec * bytes));
      for (int64_t j = 0; j < vec; ++j)
        out[r + j] = b.create<LLVM::ExtractElementOp>(loc, v, e.i32(j));
    }
    return out;
  };
  SmallVector<Type> types(size_t(n), elem);
  acc->terms.clear();
  Value ok = acc->vectorOk(vec);
  // Each branch computes its own addresses (values made in one branch are not visible in the other).
  e.setRegs(op.getResult(), ifElse(b, loc, types, ok, [&] { acc->terms.clear(); return vectorPath(); },
                                   [&] { acc->terms.clear(); return scalarPath(); }));
  return success();
}

// store_block, and atomic_add_block (`atomic`): an atomic f32 add per element, by vector
// (red.global.add.v2/v4.f32) where the store would be one.
template <typename OpT>
LogicalResult emitStoreBlock(KernelEmitter& e, OpT op, bool atomic) {
  auto tt = op.getValue().getType();
  auto acc = blockAccess(e, op, tt);
  if (failed(acc)) return failure();
  OpBuilder& b = e.b;
  Location loc = op.getLoc();
  Type elem = tt.getElementType();
  unsigned bytes = elem.getIntOrFloatBitWidth() / 8;
  auto& vals = e.regs(op.getValue());
  Value owner = e.ownerPredicate(acc->l);
  int64_t n = acc->l.numRegs();
  auto scalarPath = [&] {
    for (int64_t r = 0; r < n; ++r) {
      auto [inb, addr] = acc->at(r);
      when(b, loc, b.create<arith::AndIOp>(loc, inb, owner), [&] {
        if (atomic)
          b.create<LLVM::AtomicRMWOp>(loc, LLVM::AtomicBinOp::fadd, addr, vals[r], LLVM::AtomicOrdering::monotonic);
        else
          b.create<LLVM::StoreOp>(loc, vals[r], addr, bytes);
      });
    }
    return SmallVector<Value>{};
  };
  int64_t vec = acc->vectorWidth();
  if (atomic) vec = std::min<int64_t>(vec, 4);  // red.global.add.v2/v4.f32
  if (vec < 2) {
    scalarPath();
    return success();
  }
  auto vt = VectorType::get({vec}, elem);
  auto vectorPath = [&] {
    for (int64_t r = 0; r < n; r += vec) {
      auto [inb, addr] = acc->at(r);
      if (atomic) {
        when(b, loc, b.create<arith::AndIOp>(loc, inb, owner), [&] {
          emitVectorRed(b, loc, addr, ArrayRef<Value>(vals).slice(size_t(r), size_t(vec)));
        });
        continue;
      }
      Value v = b.create<LLVM::PoisonOp>(loc, vt);
      for (int64_t j = 0; j < vec; ++j) v = b.create<LLVM::InsertElementOp>(loc, v, vals[r + j], e.i32(j));
      when(b, loc, b.create<arith::AndIOp>(loc, inb, owner), [&] { b.create<LLVM::StoreOp>(loc, v, addr, unsigned(vec * bytes)); });
    }
    return SmallVector<Value>{};
  };
  acc->terms.clear();
  Value ok = acc->vectorOk(vec);
  ifElse(b, loc, {}, ok, [&] { acc->terms.clear(); return vectorPath(); }, [&] { acc->terms.clear(); return scalarPath(); });
  return success();
}

// Vector width for a gather/scatter of `valueType` at `offsets`: the thread's contiguous run in
// the layout, limited by what is known about the offsets (contiguous and aligned runs).
Value allOf(OpBuilder& b, Location loc, ArrayRef<Value> bits) {
  Value all = bits[0];
  for (Value v : bits.drop_front()) all = b.create<arith::AndIOp>(loc, all, v);
  return all;
}

// `alignedStatically` tells whether the first offset of every run is known to be a multiple of
// the width; otherwise each vector checks it at run time (e.g. `row * stride + arange`).
int64_t gatherVectorWidth(const LinearLayout& l, Value offsets, Type elem, bool& alignedStatically) {
  int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
  AxisInfo ai = axisInfo(offsets);
  int64_t vec = std::min({contiguityAlong(l, int(l.rank()) - 1), ai.contiguity, 16 / bytes});
  alignedStatically = ai.divisibility >= vec;
  return vec >= 2 ? vec : 1;
}

// The vector starting at register r may be accessed whole: every lane enabled and, unless known
// statically, its first offset a multiple of the width.
Value wholeVector(KernelEmitter& e, Location loc, ArrayRef<Value> enabled, ArrayRef<Value> offs, int64_t r, int64_t vec,
                  bool alignedStatically) {
  OpBuilder& b = e.b;
  Value ok = enabled.empty() ? Value() : allOf(b, loc, enabled.slice(r, vec));
  if (!alignedStatically) {
    Value rem = b.create<arith::AndIOp>(loc, offs[r], b.create<arith::ConstantIntOp>(loc, offs[r].getType(), vec - 1));
    Value aligned = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rem,
                                            b.create<arith::ConstantIntOp>(loc, offs[r].getType(), 0));
    ok = ok ? b.create<arith::AndIOp>(loc, ok, aligned).getResult() : aligned;
  }
  return ok;
}


Value pointerAligned(KernelEmitter& e, Location loc, Value ptr, int64_t bytes) {
  OpBuilder& b = e.b;
  Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), ptr);
  Value rem = b.create<arith::AndIOp>(loc, addr, e.i64(bytes - 1));
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rem, e.i64(0));
}

// Gather: ptr[offsets] per register; vectors where the offsets are known contiguous and
// aligned, the pointer is aligned (checked at run time) and every lane of the vector is unmasked.
LogicalResult emitGather(KernelEmitter& e, ti::LoadOp op) {
  OpBuilder& b = e.b;
  Location loc = op.getLoc();
  auto tt = op.getResult().getType();
  Type elem = tt.getElementType();
  unsigned bytes = elem.getIntOrFloatBitWidth() / 8;
  Value other = op.getOther() ? e.scalar(op.getOther()) : b.create<arith::ConstantOp>(loc, scalarAttr(elem, 0)).getResult();
  Value ptr = e.scalar(op.getPtr());
  auto& offs = e.regs(op.getOffsets());
  SmallVector<Value> masks;
  if (op.getMask()) masks = e.regs(op.getMask());
  int64_t n = int64_t(offs.size());
  auto scalarAt = [&](int64_t r) {
    Value addr = elemPtr(b, loc, ptr, elem, offs[r]);
    return maskedLoad(b, loc, elem, addr, masks.empty() ? Value() : masks[r], other, bytes);
  };
  auto scalarPath = [&] {
    SmallVector<Value> out;
    for (int64_t r = 0; r < n; ++r) out.push_back(scalarAt(r));
    return out;
  };
  std::string why;
  auto l = layoutOf(tt, &why);
  if (failed(l)) return op->emitOpError(why);
  bool alignedStatically = false;
  int64_t vec = gatherVectorWidth(*l, op.getOffsets(), elem, alignedStatically);
  if (vec < 2) {
    e.setRegs(op.getResult(), scalarPath());
    return success();
  }
  auto vt = VectorType::get({vec}, elem);
  SmallVector<Type> groupTypes(size_t(vec), elem);
  auto vectorPath = [&] {
    SmallVector<Value> out;
    for (int64_t r = 0; r < n; r += vec) {
      auto whole = [&] {
        Value v = b.create<LLVM::LoadOp>(loc, vt, elemPtr(b, loc, ptr, elem, offs[r]), unsigned(vec * bytes));
        SmallVector<Value> parts;
        for (int64_t j = 0; j < vec; ++j) parts.push_back(b.create<LLVM::ExtractElementOp>(loc, v, e.i32(j)));
        return parts;
      };
      auto parts = [&] {
        SmallVector<Value> p;
        for (int64_t j = 0; j < vec; ++j) p.push_back(scalarAt(r + j));
        return p;
      };
      Value ok = wholeVector(e, loc, masks, offs, r, vec, alignedStatically);
      SmallVector<Value> got = ok ? ifElse(b, loc, groupTypes, ok, whole, parts) : whole();
      out.append(got.begin(), got.end());
    }
    return out;
  };
  SmallVector<Type> types(size_t(n), elem);
  e.setRegs(op.getResult(), ifElse(b, loc, types, pointerAligned(e, loc, ptr, vec * bytes), vectorPath, scalarPath));
  return success();
}

// Scatter and atomic add: one copy of replicated elements writes. Plain scatters and f32 atomic
// adds are vectorised like gathers.
template <typename OpT>
LogicalResult emitScatter(KernelEmitter& e, OpT op, bool atomic) {
  OpBuilder& b = e.b;
  Location loc = op.getLoc();
  auto tt = op.getValue().getType();
  std::string why;
  auto l = layoutOf(tt, &why);
  if (failed(l)) return op->emitOpError(why);
  Type elem = tt.getElementType();
  unsigned bytes = elem.getIntOrFloatBitWidth() / 8;
  Value ptr = e.scalar(op.getPtr());
  Value owner = e.ownerPredicate(*l);
  auto& offs = e.regs(op.getOffsets());
  auto& vals = e.regs(op.getValue());
  SmallVector<Value> preds;
  for (size_t r = 0; r < offs.size(); ++r)
    preds.push_back(op.getMask() ? b.create<arith::AndIOp>(loc, owner, e.regs(op.getMask())[r]).getResult() : owner);
  auto scalarAt = [&](int64_t r) {
    Value addr = elemPtr(b, loc, ptr, elem, offs[r]);
    when(b, loc, preds[r], [&] {
      if (atomic)
        b.create<LLVM::AtomicRMWOp>(loc, LLVM::AtomicBinOp::fadd, addr, vals[r], LLVM::AtomicOrdering::monotonic);
      else
        b.create<LLVM::StoreOp>(loc, vals[r], addr, bytes);
    });
  };
  auto scalarPath = [&] {
    for (size_t r = 0; r < offs.size(); ++r) scalarAt(int64_t(r));
    return SmallVector<Value>{};
  };
  bool alignedStatically = false;
  // f32 atomics go by vector too (red.global.add.v2/v4.f32, sm_90): half or a quarter of the
  // instructions, and of the L2 transactions, of the backward's dQ accumulation.
  int64_t vec = atomic && !elem.isF32() ? 1 : gatherVectorWidth(*l, op.getOffsets(), elem, alignedStatically);
  if (vec < 2) {
    scalarPath();
    return success();
  }
  auto vt = VectorType::get({vec}, elem);
  auto vectorPath = [&] {
    for (int64_t r = 0; r < int64_t(offs.size()); r += vec) {
      auto whole = [&] {
        Value addr = elemPtr(b, loc, ptr, elem, offs[r]);
        if (atomic) {
          emitVectorRed(b, loc, addr, ArrayRef<Value>(vals).slice(size_t(r), size_t(vec)));
          return SmallVector<Value>{};
        }
        Value v = b.create<LLVM::PoisonOp>(loc, vt);
        for (int64_t j = 0; j < vec; ++j) v = b.create<LLVM::InsertElementOp>(loc, v, vals[r + j], e.i32(j));
        b.create<LLVM::StoreOp>(loc, v, addr, unsigned(vec * bytes));
        return SmallVector<Value>{};
      };
      auto parts = [&] {
        for (int64_t j = 0; j < vec; ++j) scalarAt(r + j);
        return SmallVector<Value>{};
      };
      ifElse(b, loc, {}, wholeVector(e, loc, preds, offs, r, vec, alignedStatically), whole, parts);
    }
    return SmallVector<Value>{};
  };
  ifElse(b, loc, {}, pointerAligned(e, loc, ptr, vec * bytes), vectorPath, scalarPath);
  return success();
}

}  // namespace

LogicalResult emitMemoryOp(KernelEmitter& e, Operation* op, bool& handled) {
  handled = true;
  OpBuilder& b = e.b;
  Location loc = op->getLoc();
  if (auto ap = dyn_cast<ti::AddPtrOp>(op)) {
    Type elem = cast<ti::PtrType>(ap.getPtr().getType()).getPointee();
    e.setRegs(ap, {elemPtr(b, loc, e.scalar(ap.getPtr()), elem, e.scalar(ap.getOffset()))});
    return success();
  }
  if (auto ls = dyn_cast<ti::LoadScalarOp>(op)) {
    Type elem = ls.getResult().getType();
    Value addr = elemPtr(b, loc, e.scalar(ls.getPtr()), elem, e.scalar(ls.getIndex()));
    e.setRegs(ls, {b.create<LLVM::LoadOp>(loc, elem, addr, elem.getIntOrFloatBitWidth() / 8)});
    return success();
  }
  if (auto lb = dyn_cast<ti::LoadBlockOp>(op)) return emitLoadBlock(e, lb);
  if (auto sb = dyn_cast<ti::StoreBlockOp>(op)) return emitStoreBlock(e, sb, false);
  if (auto ab = dyn_cast<ti::AtomicAddBlockOp>(op)) {
    auto region = e.bulkReduceOffset.find(op);
    if (region == e.bulkReduceOffset.end()) return emitStoreBlock(e, ab, true);
    return emitBulkReduceAdd(e, ab, region->second, [&] { return emitStoreBlock(e, ab, true); });
  }
  if (auto ld = dyn_cast<ti::LoadOp>(op)) return emitGather(e, ld);
  if (auto st = dyn_cast<ti::StoreOp>(op)) return emitScatter(e, st, false);
  if (auto at = dyn_cast<ti::AtomicAddOp>(op)) return emitScatter(e, at, true);
  handled = false;
  return success();
}

}  // namespace tile::lowering
