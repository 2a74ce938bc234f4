#include "lowering/passes/axis_info.h"

#include <algorithm>

#include "dsl/ir/TileDialect.h"
#include "lowering/ir/TilegpuDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
namespace ti = tile::ir;
namespace ir = tile::ir;
namespace tg = tile::gpu;

namespace tile::lowering {
namespace {

constexpr int64_t kMaxDivisibility = int64_t(1) << 16;

int64_t pow2Factor(int64_t v) {
  if (v == 0) return kMaxDivisibility;
  return std::min<int64_t>(kMaxDivisibility, v & -v);
}

// The kernel function's attribute `name` on argument `v`, if `v` is one of its arguments.
template <typename AttrT>
AttrT kernelArgAttr(Value v, llvm::StringRef name) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg) return {};
  auto f = dyn_cast_or_null<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!f || arg.getOwner() != &f.getBody().front()) return {};
  return f.getArgAttrOfType<AttrT>(arg.getArgNumber(), name);
}

// Power of two known to divide a scalar integer.
int64_t scalarDivisibility(Value v, int depth = 0) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c))) return pow2Factor(c.getSExtValue());
  if (auto d = kernelArgAttr<IntegerAttr>(v, ir::kDivisorAttr)) return std::min(kMaxDivisibility, d.getInt());
  Operation* def = v.getDefiningOp();
  if (!def || depth > 8) return 1;
  if (isa<arith::ExtSIOp, arith::ExtUIOp, arith::IndexCastOp>(def)) return scalarDivisibility(def->getOperand(0), depth + 1);
  if (isa<arith::MulIOp>(def))
    return std::min(kMaxDivisibility, scalarDivisibility(def->getOperand(0), depth + 1) *
                                          scalarDivisibility(def->getOperand(1), depth + 1));
  if (isa<arith::AddIOp, arith::SubIOp>(def))
    return std::min(scalarDivisibility(def->getOperand(0), depth + 1), scalarDivisibility(def->getOperand(1), depth + 1));
  if (isa<arith::ShLIOp>(def) && matchPattern(def->getOperand(1), m_ConstantInt(&c)))
    return std::min(kMaxDivisibility, scalarDivisibility(def->getOperand(0), depth + 1) << c.getSExtValue());
  return 1;
}

int64_t lastDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() ? t.getDimSize(t.getRank() - 1) : 1;
}

AxisInfo splatInfo(Value v, int64_t divisibility) { return {1, lastDim(v), divisibility}; }

AxisInfo analyse(Value v, int depth) {
  Operation* def = v.getDefiningOp();
  if (!def || depth > 16) return {};
  if (auto ar = dyn_cast<ti::ArangeOp>(def)) return {lastDim(v), 1, pow2Factor(ar.getStart())};
  if (auto sp = dyn_cast<ti::SplatOp>(def)) return splatInfo(v, scalarDivisibility(sp.getValue()));
  if (auto cst = dyn_cast<arith::ConstantOp>(def)) {
    if (auto s = dyn_cast<SplatElementsAttr>(cst.getValue()))
      if (auto i = dyn_cast<IntegerAttr>(s.getSplatValue<Attribute>())) return splatInfo(v, pow2Factor(i.getInt()));
    return {};
  }
  if (isa<tg::ConvertLayoutOp>(def)) return analyse(def->getOperand(0), depth + 1);
  if (auto ex = dyn_cast<ti::ExpandDimsOp>(def)) {
    auto rank = cast<RankedTensorType>(v.getType()).getRank();
    if (ex.getAxis() == rank - 1) {
      // Every element becomes a run of its own: what was known of a run's first element now
      // has to hold for each element, which for a contiguous source (start, start+1, ...) is
      // nothing (e.g. rows pid*4 + arange(0, 4), then times a row stride).
      AxisInfo s = analyse(ex.getSrc(), depth + 1);
      return {1, 1, s.contiguity > 1 ? 1 : s.divisibility};
    }
    return analyse(ex.getSrc(), depth + 1);
  }
  if (auto br = dyn_cast<ti::BroadcastOp>(def)) {
    AxisInfo s = analyse(br.getSrc(), depth + 1);
    if (lastDim(br.getSrc()) == 1) return {1, lastDim(v), s.divisibility};
    return s;
  }
  if (isa<arith::AddIOp, arith::SubIOp>(def)) {
    AxisInfo a = analyse(def->getOperand(0), depth + 1), b = analyse(def->getOperand(1), depth + 1);
    AxisInfo r;
    r.contiguity = std::max(std::min(a.contiguity, b.constancy), isa<arith::AddIOp>(def) ? std::min(a.constancy, b.contiguity) : 1);
    r.constancy = std::min(a.constancy, b.constancy);
    r.divisibility = std::min(a.divisibility, b.divisibility);
    return r;
  }
  if (isa<arith::MulIOp>(def)) {
    AxisInfo a = analyse(def->getOperand(0), depth + 1), b = analyse(def->getOperand(1), depth + 1);
    AxisInfo r;
    r.constancy = std::min(a.constancy, b.constancy);
    r.divisibility = std::min(kMaxDivisibility, a.divisibility * b.divisibility);
    APInt one;
    auto isOne = [&](Value x) {
      auto* d = x.getDefiningOp();
      if (auto sp = dyn_cast_or_null<ti::SplatOp>(d)) return matchPattern(sp.getValue(), m_One());
      return false;
    };
    if (isOne(def->getOperand(1))) r.contiguity = a.contiguity, r.divisibility = a.divisibility;
    if (isOne(def->getOperand(0))) r.contiguity = b.contiguity, r.divisibility = b.divisibility;
    return r;
  }
  return {};
}

}  // namespace

AxisInfo axisInfo(Value v) { return analyse(v, 0); }

int64_t knownDivisor(Value v) { return scalarDivisibility(v); }

bool knownPositive(Value v) {
  APInt c;
  if (matchPattern(v, m_ConstantInt(&c))) return c.getSExtValue() > 0;
  return bool(kernelArgAttr<UnitAttr>(v, ir::kPositiveAttr));
}

bool knownEqual(Value v, int64_t c) {
  APInt k;
  return matchPattern(v, m_ConstantInt(&k)) && k.getSExtValue() == c;
}

int64_t knownAlignment(Value ptr) {
  auto type = dyn_cast<ti::PtrType>(ptr.getType());
  if (!type) return 1;
  const int64_t elemBytes = std::max<int64_t>(1, type.getPointee().getIntOrFloatBitWidth() / 8);
  int64_t align = elemBytes;
  Value at = ptr;
  int64_t offsetBytes = kMaxDivisibility;  // what the offsets walked so far are known to be multiples of
  for (int depth = 0; depth < 16; ++depth) {
    if (auto add = at.getDefiningOp<ti::AddPtrOp>()) {
      offsetBytes = std::min(offsetBytes, std::min(kMaxDivisibility, scalarDivisibility(add.getOffset()) * elemBytes));
      at = add.getPtr();
      continue;
    }
    if (auto d = kernelArgAttr<IntegerAttr>(at, ir::kDivisorAttr)) align = std::max(align, std::min(d.getInt(), offsetBytes));
    break;
  }
  return align;
}

}  // namespace tile::lowering
