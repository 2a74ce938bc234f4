#include "lowering/gen/avoid_libdevice.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

namespace tile::gen {
namespace {

using mlir::Value;

// x with its sign bit replaced by `sign_of`'s (both `type`, float scalar or vector), or cleared.
Value with_sign(mlir::OpBuilder& b, mlir::Location loc, Value x, Value sign_of) {
  const mlir::Type type = x.getType();
  const unsigned width = mlir::getElementTypeOrSelf(type).getIntOrFloatBitWidth();
  const mlir::Type int_elem = b.getIntegerType(width);
  mlir::Type int_type = int_elem;
  if (auto vec = mlir::dyn_cast<mlir::VectorType>(type)) int_type = vec.clone(int_elem);
  auto constant = [&](const llvm::APInt& bits) -> Value {
    mlir::TypedAttr attr = b.getIntegerAttr(int_elem, bits);
    if (auto vec = mlir::dyn_cast<mlir::VectorType>(int_type)) attr = mlir::DenseElementsAttr::get(vec, attr);
    return b.create<mlir::arith::ConstantOp>(loc, attr);
  };
  Value bits = b.create<mlir::arith::BitcastOp>(loc, int_type, x);
  bits = b.create<mlir::arith::AndIOp>(loc, bits, constant(llvm::APInt::getSignedMaxValue(width)));
  if (sign_of) {
    Value sign = b.create<mlir::arith::BitcastOp>(loc, int_type, sign_of);
    sign = b.create<mlir::arith::AndIOp>(loc, sign, constant(llvm::APInt::getSignMask(width)));
    bits = b.create<mlir::arith::OrIOp>(loc, bits, sign);
  }
  return b.create<mlir::arith::BitcastOp>(loc, type, bits);
}

Value f32_constant(mlir::OpBuilder& b, mlir::Location loc, double v) {
  return b.create<mlir::arith::ConstantOp>(loc, b.getF32FloatAttr(float(v)));
}

// The hardware's 2^x, as the front half emits it for math.exp2.
Value ex2_approx(mlir::OpBuilder& b, mlir::Location loc, Value x) {
  auto op = b.create<mlir::LLVM::InlineAsmOp>(loc, x.getType(), mlir::ValueRange{x}, "ex2.approx.f32 $0, $1;", "=f,f",
                                              /*has_side_effects=*/false, /*is_align_stack=*/false,
                                              mlir::LLVM::TailCallKind::None, mlir::LLVM::AsmDialectAttr(),
                                              mlir::ArrayAttr());
  return op.getResult(0);
}

Value tanh_f32(mlir::OpBuilder& b, mlir::Location loc, Value x) {
  namespace arith = mlir::arith;
  Value a = with_sign(b, loc, x, nullptr);
  // Large |x|: (1 - e) / (1 + e), e = exp(-2|x|) in (0, 1], no overflow.
  Value e = ex2_approx(b, loc, b.create<arith::MulFOp>(loc, a, f32_constant(b, loc, -2.0 * 1.4426950408889634)));
  Value one = f32_constant(b, loc, 1.0);
  Value big = b.create<arith::DivFOp>(loc, b.create<arith::SubFOp>(loc, one, e), b.create<arith::AddFOp>(loc, one, e));
  big = with_sign(b, loc, big, x);
  // Small |x|: Taylor series (the quotient above cancels there).
  Value x2 = b.create<arith::MulFOp>(loc, x, x);
  Value p = f32_constant(b, loc, -17.0 / 315.0);
  for (double c : {2.0 / 15.0, -1.0 / 3.0, 1.0})
    p = b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, p, x2), f32_constant(b, loc, c));
  Value small = b.create<arith::MulFOp>(loc, x, p);
  Value is_small = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, a, f32_constant(b, loc, 0.125));
  return b.create<arith::SelectOp>(loc, is_small, small, big);
}

}  // namespace

int replace_libdevice_math(mlir::ModuleOp module) {
  llvm::SmallVector<mlir::Operation*> ops;
  module.walk([&](mlir::Operation* op) {
    if (auto abs = mlir::dyn_cast<mlir::math::AbsFOp>(op)) {
      if (mlir::isa<mlir::FloatType, mlir::VectorType>(abs.getType())) ops.push_back(op);
    } else if (auto tanh = mlir::dyn_cast<mlir::math::TanhOp>(op)) {
      if (tanh.getType().isF32()) ops.push_back(op);
    }
  });
  for (mlir::Operation* op : ops) {
    mlir::OpBuilder b(op);
    Value x = op->getOperand(0);
    Value repl = mlir::isa<mlir::math::AbsFOp>(op) ? with_sign(b, op->getLoc(), x, nullptr) : tanh_f32(b, op->getLoc(), x);
    op->getResult(0).replaceAllUsesWith(repl);
    op->erase();
  }
  return int(ops.size());
}

}  // namespace tile::gen
