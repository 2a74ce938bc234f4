// Compute ops: arithmetic with numpy broadcasting, comparisons, math, casts, creation and shape
// ops, dot and reductions. Every check happens before an op is created, so a bad kernel throws
// BuildError instead of producing IR that fails verification.
#include "dsl/ops.h"

#include "dsl/builder_state.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace tile {

using detail::fail;
using detail::unwrap;
using detail::wrap;

namespace {

enum class Bin { add, sub, mul, div, rem, lt, le, gt, ge, eq, ne, band, bor, max, min };

const char* bin_name(Bin k) {
  switch (k) {
    case Bin::add: return "add";
    case Bin::sub: return "sub";
    case Bin::mul: return "mul";
    case Bin::div: return "div";
    case Bin::rem: return "rem";
    case Bin::lt: return "lt";
    case Bin::le: return "le";
    case Bin::gt: return "gt";
    case Bin::ge: return "ge";
    case Bin::eq: return "eq";
    case Bin::ne: return "ne";
    case Bin::band: return "and";
    case Bin::bor: return "or";
    case Bin::max: return "maximum";
    case Bin::min: return "minimum";
  }
  return "?";
}

bool is_compare(Bin k) { return k >= Bin::lt && k <= Bin::ne; }

// The element-level op on two SSA values of identical type.
mlir::Value emit_binary(Bin k, mlir::Value a, mlir::Value b, DType t) {
  const std::string op = bin_name(k);
  auto& bd = detail::builder(op.c_str());
  auto l = detail::loc();
  namespace ar = mlir::arith;
  const bool fl = is_float(t);
  if (t == DType::i1 && !(k == Bin::band || k == Bin::bor || k == Bin::eq || k == Bin::ne))
    fail(op, "not defined on i1 masks (use & | == !=)");
  if (fl && (k == Bin::band || k == Bin::bor)) fail(op, std::string("needs i1 or i32 operands, got ") + dtype_name(t));
  switch (k) {
    case Bin::add: return fl ? ar::AddFOp::create(bd, l, a, b).getResult() : ar::AddIOp::create(bd, l, a, b).getResult();
    case Bin::sub: return fl ? ar::SubFOp::create(bd, l, a, b).getResult() : ar::SubIOp::create(bd, l, a, b).getResult();
    case Bin::mul: return fl ? ar::MulFOp::create(bd, l, a, b).getResult() : ar::MulIOp::create(bd, l, a, b).getResult();
    case Bin::div: return fl ? ar::DivFOp::create(bd, l, a, b).getResult() : ar::DivSIOp::create(bd, l, a, b).getResult();
    case Bin::rem: return fl ? ar::RemFOp::create(bd, l, a, b).getResult() : ar::RemSIOp::create(bd, l, a, b).getResult();
    case Bin::max: return fl ? ar::MaximumFOp::create(bd, l, a, b).getResult() : ar::MaxSIOp::create(bd, l, a, b).getResult();
    case Bin::min: return fl ? ar::MinimumFOp::create(bd, l, a, b).getResult() : ar::MinSIOp::create(bd, l, a, b).getResult();
    case Bin::band: return ar::AndIOp::create(bd, l, a, b);
    case Bin::bor: return ar::OrIOp::create(bd, l, a, b);
    default: break;
  }
  if (fl) {
    // Ordered comparisons are false on NaN; != is unordered (true on NaN), as in C.
    ar::CmpFPredicate p = k == Bin::lt ? ar::CmpFPredicate::OLT : k == Bin::le ? ar::CmpFPredicate::OLE
                        : k == Bin::gt ? ar::CmpFPredicate::OGT : k == Bin::ge ? ar::CmpFPredicate::OGE
                        : k == Bin::eq ? ar::CmpFPredicate::OEQ : ar::CmpFPredicate::UNE;
    return ar::CmpFOp::create(bd, l, p, a, b);
  }
  ar::CmpIPredicate p = k == Bin::lt ? ar::CmpIPredicate::slt : k == Bin::le ? ar::CmpIPredicate::sle
                      : k == Bin::gt ? ar::CmpIPredicate::sgt : k == Bin::ge ? ar::CmpIPredicate::sge
                      : k == Bin::eq ? ar::CmpIPredicate::eq : ar::CmpIPredicate::ne;
  return ar::CmpIOp::create(bd, l, p, a, b);
}

// Brings both operands to one dtype (literals adopt the other side's) and one shape.
mlir::Value binary(Bin k, const Value& a, bool a_lit, const Scalar* a_s, const Value& b, bool b_lit,
                   const Scalar* b_s) {
  const std::string op = bin_name(k);
  mlir::Value va, vb;
  if (a_lit && b_lit) {
    va = detail::scalar_value(*a_s, op);
    DType t = detail::dtype_of(va.getType(), op);
    vb = detail::scalar_as(*b_s, b_s->literal_is_int() || is_float(t) ? t : DType::f32, op);
    if (va.getType() != vb.getType()) va = detail::scalar_as(*a_s, DType::f32, op);
  } else if (a_lit) {
    vb = unwrap(b);
    va = detail::scalar_as(*a_s, detail::dtype_of(detail::element_of(vb), op), op);
  } else if (b_lit) {
    va = unwrap(a);
    vb = detail::scalar_as(*b_s, detail::dtype_of(detail::element_of(va), op), op);
  } else {
    va = unwrap(a);
    vb = unwrap(b);
  }
  DType ta = detail::dtype_of(detail::element_of(va), op), tb = detail::dtype_of(detail::element_of(vb), op);
  if (ta != tb)
    fail(op, "dtype mismatch " + detail::type_str(va.getType()) + " vs " + detail::type_str(vb.getType()) +
                 " (convert one with .to<T>())");
  const bool tiles = llvm::isa<mlir::RankedTensorType>(va.getType()) || llvm::isa<mlir::RankedTensorType>(vb.getType());
  if (tiles) {
    Shape shape = detail::broadcast_shapes(detail::shape_of(va), detail::shape_of(vb), op);
    va = detail::broadcast_value(va, shape, op);
    vb = detail::broadcast_value(vb, shape, op);
  }
  return emit_binary(k, va, vb, ta);
}

Scalar bin_ss(Bin k, const Scalar& a, const Scalar& b) {
  return Scalar(wrap(binary(k, a, a.is_literal(), &a, b, b.is_literal(), &b)));
}
Tile bin_tt(Bin k, const Tile& a, const Tile& b) { return Tile(wrap(binary(k, a, false, nullptr, b, false, nullptr))); }
Tile bin_ts(Bin k, const Tile& a, const Scalar& b) { return Tile(wrap(binary(k, a, false, nullptr, b, b.is_literal(), &b))); }
Tile bin_st(Bin k, const Scalar& a, const Tile& b) { return Tile(wrap(binary(k, a, a.is_literal(), &a, b, false, nullptr))); }

}  // namespace

#define TILE_DSL_DEFINE_BINARY(OP, KIND)                                            \
  Scalar OP(const Scalar& a, const Scalar& b) { return bin_ss(Bin::KIND, a, b); }   \
  Tile OP(const Tile& a, const Tile& b) { return bin_tt(Bin::KIND, a, b); }         \
  Tile OP(const Tile& a, const Scalar& b) { return bin_ts(Bin::KIND, a, b); }       \
  Tile OP(const Scalar& a, const Tile& b) { return bin_st(Bin::KIND, a, b); }
TILE_DSL_DEFINE_BINARY(operator+, add)
TILE_DSL_DEFINE_BINARY(operator-, sub)
TILE_DSL_DEFINE_BINARY(operator*, mul)
TILE_DSL_DEFINE_BINARY(operator/, div)
TILE_DSL_DEFINE_BINARY(operator%, rem)
TILE_DSL_DEFINE_BINARY(operator<, lt)
TILE_DSL_DEFINE_BINARY(operator<=, le)
TILE_DSL_DEFINE_BINARY(operator>, gt)
TILE_DSL_DEFINE_BINARY(operator>=, ge)
TILE_DSL_DEFINE_BINARY(operator==, eq)
TILE_DSL_DEFINE_BINARY(operator!=, ne)
TILE_DSL_DEFINE_BINARY(operator&, band)
TILE_DSL_DEFINE_BINARY(operator|, bor)
TILE_DSL_DEFINE_BINARY(maximum, max)
TILE_DSL_DEFINE_BINARY(minimum, min)
#undef TILE_DSL_DEFINE_BINARY

// --- unary ------------------------------------------------------------------------------------

namespace {

mlir::Value negate(mlir::Value v, const std::string& op) {
  auto& b = detail::builder(op.c_str());
  DType t = detail::dtype_of(detail::element_of(v), op);
  if (t == DType::i1) fail(op, "not defined on i1 (use ~ / !)");
  if (is_float(t)) return mlir::arith::NegFOp::create(b, detail::loc(), v);
  mlir::Value zero = detail::broadcast_value(detail::constant(0, t, op), detail::shape_of(v), op);
  if (!llvm::isa<mlir::RankedTensorType>(v.getType())) zero = detail::constant(0, t, op);
  return mlir::arith::SubIOp::create(b, detail::loc(), zero, v);
}

mlir::Value logical_not(mlir::Value v, const std::string& op) {
  auto& b = detail::builder(op.c_str());
  if (detail::dtype_of(detail::element_of(v), op) != DType::i1)
    fail(op, "needs an i1 operand, got " + detail::type_str(v.getType()));
  mlir::Value one = detail::constant(1, DType::i1, op);
  if (llvm::isa<mlir::RankedTensorType>(v.getType())) one = detail::broadcast_value(one, detail::shape_of(v), op);
  return mlir::arith::XOrIOp::create(b, detail::loc(), v, one);
}

enum class Math { exp2, log2, exp, log, tanh, sqrt, rsqrt, abs };

mlir::Value math(Math k, mlir::Value v, const char* op) {
  auto& b = detail::builder(op);
  auto l = detail::loc();
  DType t = detail::dtype_of(detail::element_of(v), op);
  if (k == Math::abs && (t == DType::i32 || t == DType::i64)) return mlir::math::AbsIOp::create(b, l, v);
  if (!is_float(t)) fail(op, "needs a float operand, got " + detail::type_str(v.getType()));
  switch (k) {
    case Math::exp2: return mlir::math::Exp2Op::create(b, l, v);
    case Math::log2: return mlir::math::Log2Op::create(b, l, v);
    case Math::exp: return mlir::math::ExpOp::create(b, l, v);
    case Math::log: return mlir::math::LogOp::create(b, l, v);
    case Math::tanh: return mlir::math::TanhOp::create(b, l, v);
    case Math::sqrt: return mlir::math::SqrtOp::create(b, l, v);
    case Math::rsqrt: return mlir::math::RsqrtOp::create(b, l, v);
    case Math::abs: return mlir::math::AbsFOp::create(b, l, v);
  }
  return v;
}

}  // namespace

Scalar operator-(const Scalar& a) {
  if (a.is_literal()) return a.literal_is_int() ? Scalar((long long)(-a.literal())) : Scalar(-a.literal());
  return Scalar(wrap(negate(unwrap(a), "neg")));
}
Tile operator-(const Tile& a) { return Tile(wrap(negate(unwrap(a), "neg"))); }
Scalar operator!(const Scalar& a) { return Scalar(wrap(logical_not(detail::scalar_value(a, "not"), "not"))); }
Tile operator~(const Tile& a) { return Tile(wrap(logical_not(unwrap(a), "not"))); }

#define TILE_DSL_DEFINE_UNARY(NAME)                                                       \
  Tile NAME(const Tile& x) { return Tile(wrap(math(Math::NAME, unwrap(x), #NAME))); }      \
  Scalar NAME(const Scalar& x) {                                                          \
    return Scalar(wrap(math(Math::NAME, detail::scalar_as(x, x.is_literal() ? DType::f32 : x.dtype(), #NAME), #NAME))); \
  }
TILE_DSL_DEFINE_UNARY(exp2)
TILE_DSL_DEFINE_UNARY(log2)
TILE_DSL_DEFINE_UNARY(exp)
TILE_DSL_DEFINE_UNARY(log)
TILE_DSL_DEFINE_UNARY(tanh)
TILE_DSL_DEFINE_UNARY(sqrt)
TILE_DSL_DEFINE_UNARY(rsqrt)
TILE_DSL_DEFINE_UNARY(abs)
#undef TILE_DSL_DEFINE_UNARY

// --- scalars ------------------------------------------------------------------------------------

Int program_id(int axis) {
  if (axis < 0 || axis > 2) fail("program_id", "axis " + std::to_string(axis) + " is not 0, 1 or 2");
  auto& b = detail::builder("program_id");
  return Int(wrap(ir::ProgramIdOp::create(b, detail::loc(), b.getI32Type(), b.getI32IntegerAttr(axis))));
}

Int num_programs(int axis) {
  if (axis < 0 || axis > 2) fail("num_programs", "axis " + std::to_string(axis) + " is not 0, 1 or 2");
  auto& b = detail::builder("num_programs");
  return Int(wrap(ir::NumProgramsOp::create(b, detail::loc(), b.getI32Type(), b.getI32IntegerAttr(axis))));
}

Int cdiv(const Int& a, const Int& b) {
  mlir::Value va = detail::scalar_as(a, DType::i32, "cdiv"), vb = detail::scalar_as(b, DType::i32, "cdiv");
  Int x(wrap(va)), y(wrap(vb));
  return (x + y - 1) / y;
}

Scalar select(const Bool& cond, const Scalar& a, const Scalar& b) {
  const char* op = "select";
  mlir::Value c = detail::scalar_as(cond, DType::i1, op);
  DType t = !a.is_literal() ? a.dtype() : !b.is_literal() ? b.dtype()
          : (a.literal_is_int() && b.literal_is_int() ? DType::i32 : DType::f32);
  mlir::Value va = detail::scalar_as(a, t, op), vb = detail::scalar_as(b, t, op);
  return Scalar(wrap(mlir::arith::SelectOp::create(detail::builder(op), detail::loc(), c, va, vb)));
}

namespace {

Tile where_impl(const Value& cond, bool cond_scalar, const Value& a, const Scalar* a_s, const Value& b,
                const Scalar* b_s) {
  const char* op = "where";
  mlir::Value c = cond_scalar ? detail::scalar_as(Scalar(cond), DType::i1, op) : unwrap(cond);
  if (detail::dtype_of(detail::element_of(c), op) != DType::i1)
    fail(op, "condition must be i1, got " + detail::type_str(c.getType()));
  mlir::Value va, vb;
  if (a_s && a_s->is_literal()) {
    vb = unwrap(b);
    va = detail::scalar_as(*a_s, detail::dtype_of(detail::element_of(vb), op), op);
  } else if (b_s && b_s->is_literal()) {
    va = unwrap(a);
    vb = detail::scalar_as(*b_s, detail::dtype_of(detail::element_of(va), op), op);
  } else {
    va = unwrap(a);
    vb = unwrap(b);
  }
  if (detail::element_of(va) != detail::element_of(vb))
    fail(op, "dtype mismatch " + detail::type_str(va.getType()) + " vs " + detail::type_str(vb.getType()));
  Shape shape = detail::broadcast_shapes(detail::shape_of(c), detail::shape_of(va), op);
  shape = detail::broadcast_shapes(shape, detail::shape_of(vb), op);
  if (shape.empty()) fail(op, "all operands are scalars (use select)");
  c = detail::broadcast_value(c, shape, op);
  va = detail::broadcast_value(va, shape, op);
  vb = detail::broadcast_value(vb, shape, op);
  return Tile(wrap(mlir::arith::SelectOp::create(detail::builder(op), detail::loc(), c, va, vb)));
}

}  // namespace

Tile where(const Tile& c, const Tile& a, const Tile& b) { return where_impl(c, false, a, nullptr, b, nullptr); }
Tile where(const Tile& c, const Tile& a, const Scalar& b) { return where_impl(c, false, a, nullptr, b, &b); }
Tile where(const Tile& c, const Scalar& a, const Tile& b) { return where_impl(c, false, a, &a, b, nullptr); }
Tile where(const Tile& c, const Scalar& a, const Scalar& b) {
  const char* op = "where";
  DType t = !a.is_literal() ? a.dtype() : !b.is_literal() ? b.dtype()
          : (a.literal_is_int() && b.literal_is_int() ? DType::i32 : DType::f32);
  Scalar va(wrap(detail::scalar_as(a, t, op))), vb(wrap(detail::scalar_as(b, t, op)));
  return where_impl(c, false, va, nullptr, vb, nullptr);
}
Tile where(const Bool& c, const Tile& a, const Tile& b) {
  Scalar vc(wrap(detail::scalar_as(c, DType::i1, "where")));
  return where_impl(vc, true, a, nullptr, b, nullptr);
}

// --- casts ----------------------------------------------------------------------------------------

namespace {

mlir::Value convert(mlir::Value v, DType to_t, const char* op) {
  auto& b = detail::builder(op);
  auto l = detail::loc();
  DType from = detail::dtype_of(detail::element_of(v), op);
  if (from == to_t) return v;
  mlir::Type elem = detail::element_type(to_t, b.getContext());
  mlir::Type type = elem;
  if (auto r = llvm::dyn_cast<mlir::RankedTensorType>(v.getType())) type = detail::tensor_type(detail::shape_of(v), elem);
  auto unsupported = [&] {
    fail(op, std::string("cannot convert ") + detail::type_str(v.getType()) + " to " + dtype_name(to_t));
  };
  if (from == DType::i64 || to_t == DType::i64) {
    // 64-bit integers are scalar-only: pointer offsets of tensors past 2^31 elements.
    if (llvm::isa<mlir::RankedTensorType>(v.getType())) unsupported();
    if (from == DType::i32) return mlir::arith::ExtSIOp::create(b, l, type, v);
    if (to_t == DType::i32) return mlir::arith::TruncIOp::create(b, l, type, v);
    unsupported();
  }
  if (is_float(from) && is_float(to_t)) {
    unsigned wf = detail::element_of(v).getIntOrFloatBitWidth(), wt = elem.getIntOrFloatBitWidth();
    if (wf == wt) {  // f16 <-> bf16: through f32 (exact widening, then one rounding)
      mlir::Value wide = convert(v, DType::f32, op);
      return convert(wide, to_t, op);
    }
    if (wf < wt) return mlir::arith::ExtFOp::create(b, l, type, v);
    return mlir::arith::TruncFOp::create(b, l, type, v);
  }
  if (from == DType::i32 && is_float(to_t)) return mlir::arith::SIToFPOp::create(b, l, type, v);
  if (is_float(from) && to_t == DType::i32) return mlir::arith::FPToSIOp::create(b, l, type, v);
  if (from == DType::i1 && to_t == DType::i32) return mlir::arith::ExtUIOp::create(b, l, type, v);
  if (from == DType::i1 && is_float(to_t)) return mlir::arith::UIToFPOp::create(b, l, type, v);
  if (to_t == DType::i1) {  // nonzero test
    mlir::Value zero = detail::constant(0, from, op);
    if (llvm::isa<mlir::RankedTensorType>(v.getType())) zero = detail::broadcast_value(zero, detail::shape_of(v), op);
    if (is_float(from)) return mlir::arith::CmpFOp::create(b, l, mlir::arith::CmpFPredicate::UNE, v, zero);
    return mlir::arith::CmpIOp::create(b, l, mlir::arith::CmpIPredicate::ne, v, zero);
  }
  unsupported();
  return v;
}

}  // namespace

Tile to(const Tile& x, DType t) { return Tile(wrap(convert(unwrap(x), t, "to"))); }
Scalar to(const Scalar& x, DType t) {
  if (x.is_literal()) return Scalar(wrap(detail::constant(x.literal(), t, "to")));
  return Scalar(wrap(convert(unwrap(x), t, "to")));
}
Tile Tile::to(DType t) const { return tile::to(*this, t); }
Scalar Scalar::to(DType t) const { return tile::to(*this, t); }

// --- creation and shape -----------------------------------------------------------------------------

namespace {
void check_shape(const Shape& shape, const char* op) {
  if (shape.empty()) fail(op, "shape must have at least one dim");
  for (int64_t d : shape)
    if (d <= 0) fail(op, "shape " + shape_str(shape) + " has a non-positive dim");
}
}  // namespace

Tile full(const Shape& shape, const Scalar& value, DType t) {
  check_shape(shape, "full");
  mlir::Value v = detail::scalar_as(value, t, "full");
  return Tile(wrap(detail::broadcast_value(v, shape, "full")));
}

Tile full(const Shape& shape, const Scalar& value) { return full(shape, value, value.dtype()); }
Tile zeros(const Shape& shape, DType t) { return full(shape, 0, t); }

Tile arange(int start, int end) {
  if (end <= start) fail("arange", "empty range [" + std::to_string(start) + ", " + std::to_string(end) + ")");
  auto& b = detail::builder("arange");
  auto type = detail::tensor_type({int64_t(end) - start}, b.getI32Type());
  return Tile(wrap(ir::ArangeOp::create(b, detail::loc(), type, b.getI32IntegerAttr(start), b.getI32IntegerAttr(end))));
}

Tile expand_dims(const Tile& x, int axis) {
  mlir::Value v = unwrap(x);
  Shape s = detail::shape_of(v);
  int rank = int(s.size());
  if (axis < 0) axis += rank + 1;
  if (axis < 0 || axis > rank)
    fail("expand_dims", "axis " + std::to_string(axis) + " out of range for " + x.type_str());
  s.insert(s.begin() + axis, 1);
  auto& b = detail::builder("expand_dims");
  return Tile(wrap(ir::ExpandDimsOp::create(b, detail::loc(), detail::tensor_type(s, detail::element_of(v)), v,
                                            b.getI32IntegerAttr(axis))));
}

Tile broadcast_to(const Tile& x, const Shape& shape) {
  check_shape(shape, "broadcast_to");
  return Tile(wrap(detail::broadcast_value(unwrap(x), shape, "broadcast_to")));
}

Tile trans(const Tile& x) {
  mlir::Value v = unwrap(x);
  Shape s = detail::shape_of(v);
  if (s.size() != 2) fail("trans", "needs a 2-D tile, got " + x.type_str());
  auto& b = detail::builder("trans");
  return Tile(wrap(ir::TransOp::create(b, detail::loc(), detail::tensor_type({s[1], s[0]}, detail::element_of(v)), v)));
}

Tile Tile::col() const {
  if (rank() != 1) detail::fail("col", "needs a 1-D tile, got " + type_str());
  return expand_dims(*this, 1);
}
Tile Tile::row() const {
  if (rank() != 1) detail::fail("row", "needs a 1-D tile, got " + type_str());
  return expand_dims(*this, 0);
}
Tile Tile::t() const { return trans(*this); }

// --- dot ------------------------------------------------------------------------------------------

Tile dot(const Tile& a, const Tile& b, const Tile& acc) {
  const char* op = "dot";
  Shape sa = a.shape(), sb = b.shape(), sc = acc.shape();
  if (sa.size() != 2 || sb.size() != 2)
    fail(op, "operands must be 2-D, got " + a.type_str() + " and " + b.type_str());
  if (sa[1] != sb[0])
    fail(op, "inner dims " + std::to_string(sa[1]) + " vs " + std::to_string(sb[0]) + " (" + a.type_str() +
                 " @ " + b.type_str() + ")");
  if (a.dtype() != b.dtype())
    fail(op, std::string("operand dtypes differ: ") + dtype_name(a.dtype()) + " vs " + dtype_name(b.dtype()));
  if (!is_float(a.dtype()) || a.dtype() == DType::f64)
    fail(op, std::string("operands must be f16, bf16 or f32, got ") + dtype_name(a.dtype()));
  if (sc != Shape{sa[0], sb[1]} || acc.dtype() != DType::f32)
    fail(op, "accumulator must be f32" + shape_str({sa[0], sb[1]}) + ", got " + acc.type_str());
  mlir::Value vc = unwrap(acc);
  return Tile(wrap(ir::DotOp::create(detail::builder(op), detail::loc(), vc.getType(), unwrap(a), unwrap(b), vc)));
}

Tile dot(const Tile& a, const Tile& b) {
  Shape sa = a.shape(), sb = b.shape();
  if (sa.size() != 2 || sb.size() != 2)
    fail("dot", "operands must be 2-D, got " + a.type_str() + " and " + b.type_str());
  return dot(a, b, zeros({sa[0], sb[1]}, DType::f32));
}

// --- reductions -----------------------------------------------------------------------------------

namespace {

mlir::Value reduce(const char* kind, mlir::Value v, int axis) {
  const std::string op = kind;
  Shape s = detail::shape_of(v);
  std::string type = detail::type_str(v.getType());
  if (s.empty()) fail(op, "needs a tile, got " + type);
  int rank = int(s.size());
  int a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(op, "axis " + std::to_string(axis) + " out of range for " + type);
  DType t = detail::dtype_of(detail::element_of(v), op);
  if (t == DType::i1) fail(op, "cannot reduce an i1 tile (convert to i32 first)");
  mlir::Type result = detail::element_of(v);
  if (rank > 1) {
    s.erase(s.begin() + a);
    result = detail::tensor_type(s, result);
  }
  auto& b = detail::builder(kind);
  return ir::ReduceOp::create(b, detail::loc(), result, v, b.getI32IntegerAttr(a), b.getStringAttr(kind));
}

Tile reduce_axis(const char* kind, const Tile& x, int axis) {
  if (x.rank() == 1)
    fail(kind, std::string("reducing the 1-D tile ") + x.type_str() + " gives a scalar; use " + kind + "(x)");
  return Tile(wrap(reduce(kind, unwrap(x), axis)));
}

Scalar reduce_all(const char* kind, const Tile& x) {
  mlir::Value v = unwrap(x);
  while (detail::shape_of(v).size() > 1) v = reduce(kind, v, int(detail::shape_of(v).size()) - 1);
  return Scalar(wrap(reduce(kind, v, 0)));
}

}  // namespace

Tile max(const Tile& x, int axis) { return reduce_axis("max", x, axis); }
Tile min(const Tile& x, int axis) { return reduce_axis("min", x, axis); }
Tile sum(const Tile& x, int axis) { return reduce_axis("sum", x, axis); }
Scalar max(const Tile& x) { return reduce_all("max", x); }
Scalar min(const Tile& x) { return reduce_all("min", x); }
Scalar sum(const Tile& x) { return reduce_all("sum", x); }

}  // namespace tile
