#include "dsl/ir/TileDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;

#include "dsl/ir/TileDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dsl/ir/TileTypes.cpp.inc"

#define GET_OP_CLASSES
#include "dsl/ir/TileOps.cpp.inc"

namespace tile::ir {

void TileDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dsl/ir/TileTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dsl/ir/TileOps.cpp.inc"
      >();
}

void registerTileDialects(DialectRegistry& registry) {
  registry.insert<TileDialect, arith::ArithDialect, math::MathDialect, scf::SCFDialect,
                  func::FuncDialect>();
}

namespace {

std::string shapeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

RankedTensorType tensorOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

bool isMemElement(Type t) { return t.isF16() || t.isBF16() || t.isF32() || t.isInteger(32); }

}  // namespace

LogicalResult SplatOp::verify() {
  if (getResult().getType().getElementType() != getValue().getType())
    return emitOpError("splat: element type ") << getResult().getType().getElementType()
                                               << " differs from the scalar's " << getValue().getType();
  return success();
}

LogicalResult ArangeOp::verify() {
  auto t = getResult().getType();
  int64_t n = int64_t(getEnd()) - int64_t(getStart());
  if (t.getRank() != 1 || n <= 0 || t.getDimSize(0) != n)
    return emitOpError("arange: result must be tensor<") << n << "xi32>, got " << t;
  return success();
}

LogicalResult ExpandDimsOp::verify() {
  auto src = getSrc().getType();
  auto res = getResult().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis > src.getRank())
    return emitOpError("expand_dims: axis ") << axis << " out of range for rank " << src.getRank();
  SmallVector<int64_t> want(src.getShape());
  want.insert(want.begin() + axis, 1);
  if (res.getShape() != ArrayRef<int64_t>(want) || res.getElementType() != src.getElementType())
    return emitOpError("expand_dims: result type ") << res << " does not match " << src
                                                    << " with a unit dim at " << axis;
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto src = getSrc().getType();
  auto res = getResult().getType();
  if (src.getRank() != res.getRank() || src.getElementType() != res.getElementType())
    return emitOpError("broadcast: ") << src << " -> " << res << " needs equal rank and element type";
  for (int64_t d = 0; d < src.getRank(); ++d)
    if (src.getDimSize(d) != 1 && src.getDimSize(d) != res.getDimSize(d))
      return emitOpError("broadcast: dim ") << d << " is " << src.getDimSize(d) << ", cannot become "
                                            << res.getDimSize(d);
  return success();
}

LogicalResult TransOp::verify() {
  auto src = getSrc().getType();
  auto res = getResult().getType();
  if (src.getRank() != 2 || res.getRank() != 2 || src.getDimSize(0) != res.getDimSize(1) ||
      src.getDimSize(1) != res.getDimSize(0) || src.getElementType() != res.getElementType())
    return emitOpError("trans: ") << src << " -> " << res << " is not a 2-D transpose";
  return success();
}

LogicalResult DotOp::verify() {
  auto a = getA().getType(), b = getB().getType(), c = getAcc().getType(), r = getResult().getType();
  if (a.getRank() != 2 || b.getRank() != 2 || c.getRank() != 2)
    return emitOpError("dot: operands must be 2-D, got ") << a << ", " << b << ", " << c;
  if (a.getDimSize(1) != b.getDimSize(0))
    return emitOpError("dot: inner dims ") << a.getDimSize(1) << " vs " << b.getDimSize(0);
  if (c.getDimSize(0) != a.getDimSize(0) || c.getDimSize(1) != b.getDimSize(1))
    return emitOpError("dot: accumulator ") << c << " is not " << a.getDimSize(0) << "x" << b.getDimSize(1);
  if (a.getElementType() != b.getElementType())
    return emitOpError("dot: operand element types differ: ") << a.getElementType() << " vs "
                                                              << b.getElementType();
  Type e = a.getElementType();
  if (!(e.isF16() || e.isBF16() || e.isF32()))
    return emitOpError("dot: operands must be f16, bf16 or f32, got ") << e;
  if (!c.getElementType().isF32() || r != c)
    return emitOpError("dot: accumulator and result must be the same f32 tile, got ") << c << " and " << r;
  return success();
}

LogicalResult ReduceOp::verify() {
  auto src = getSrc().getType();
  int64_t axis = getAxis();
  StringRef kind = getKind();
  if (kind != "max" && kind != "min" && kind != "sum")
    return emitOpError("reduce: kind must be max, min or sum, got '") << kind << "'";
  if (axis < 0 || axis >= src.getRank())
    return emitOpError("reduce: axis ") << axis << " out of range for " << src;
  Type want;
  if (src.getRank() == 1) {
    want = src.getElementType();
  } else {
    SmallVector<int64_t> shape(src.getShape());
    shape.erase(shape.begin() + axis);
    want = RankedTensorType::get(shape, src.getElementType());
  }
  if (getResult().getType() != want)
    return emitOpError("reduce: result must be ") << want << ", got " << getResult().getType();
  return success();
}

LogicalResult AddPtrOp::verify() {
  if (getPtr().getType() != getResult().getType())
    return emitOpError("addptr: result type must equal the pointer type");
  return success();
}

LogicalResult LoadScalarOp::verify() {
  auto p = llvm::cast<PtrType>(getPtr().getType());
  if (p.getPointee() != getResult().getType())
    return emitOpError("load_scalar: result ") << getResult().getType() << " differs from pointee "
                                               << p.getPointee();
  return success();
}

static LogicalResult verifyBlock(Operation* op, Type ptrType, size_t nShape, size_t nStrides,
                                 size_t nOffsets, RankedTensorType tile, StringRef name) {
  auto p = llvm::cast<PtrType>(ptrType);
  if (!isMemElement(p.getPointee()))
    return op->emitOpError() << name << ": pointee " << p.getPointee() << " is not f16, bf16, f32 or i32";
  if (p.getPointee() != tile.getElementType())
    return op->emitOpError() << name << ": tile element type " << tile.getElementType()
                             << " differs from pointee " << p.getPointee();
  size_t rank = tile.getRank();
  if (nShape != rank || nStrides != rank || nOffsets != rank)
    return op->emitOpError() << name << ": " << shapeStr(tile) << " needs " << rank
                             << " shape/strides/offsets each, got " << nShape << "/" << nStrides
                             << "/" << nOffsets;
  return success();
}

LogicalResult LoadBlockOp::verify() {
  return verifyBlock(getOperation(), getPtr().getType(), getShape().size(), getStrides().size(),
                     getOffsets().size(), getResult().getType(), "load_block");
}

LogicalResult StoreBlockOp::verify() {
  return verifyBlock(getOperation(), getPtr().getType(), getShape().size(), getStrides().size(),
                     getOffsets().size(), tensorOf(getValue()), "store_block");
}

LogicalResult AtomicAddBlockOp::verify() {
  if (!tensorOf(getValue()).getElementType().isF32())
    return emitOpError("atomic_add_block: value must be f32, got ") << tensorOf(getValue()).getElementType();
  return verifyBlock(getOperation(), getPtr().getType(), getShape().size(), getStrides().size(),
                     getOffsets().size(), tensorOf(getValue()), "atomic_add_block");
}

static LogicalResult verifyGather(Operation* op, Type ptrType, RankedTensorType offsets,
                                  RankedTensorType value, Value mask, StringRef name) {
  auto p = llvm::cast<PtrType>(ptrType);
  if (p.getPointee() != value.getElementType())
    return op->emitOpError() << name << ": tile element type " << value.getElementType()
                             << " differs from pointee " << p.getPointee();
  if (offsets.getShape() != value.getShape())
    return op->emitOpError() << name << ": offsets " << shapeStr(offsets) << " and value "
                             << shapeStr(value) << " differ in shape";
  if (mask && tensorOf(mask).getShape() != value.getShape())
    return op->emitOpError() << name << ": mask " << shapeStr(mask.getType()) << " and value "
                             << shapeStr(value) << " differ in shape";
  return success();
}

LogicalResult LoadOp::verify() {
  if (failed(verifyGather(getOperation(), getPtr().getType(), getOffsets().getType(),
                          getResult().getType(), getMask(), "load")))
    return failure();
  if (getOther() && getOther().getType() != getResult().getType().getElementType())
    return emitOpError("load: `other` must be a scalar of the element type");
  return success();
}

LogicalResult StoreOp::verify() {
  return verifyGather(getOperation(), getPtr().getType(), getOffsets().getType(),
                      tensorOf(getValue()), getMask(), "store");
}

LogicalResult AtomicAddOp::verify() {
  if (!tensorOf(getValue()).getElementType().isF32())
    return emitOpError("atomic_add: only f32 tiles are supported, got ") << getValue().getType();
  return verifyGather(getOperation(), getPtr().getType(), getOffsets().getType(),
                      tensorOf(getValue()), getMask(), "atomic_add");
}

}  // namespace tile::ir
