// Value queries and the helpers shared by the op files (see builder_state.h).
#include <cmath>
#include <cstring>
#include <sstream>

#include "dsl/builder_state.h"
#include "dsl/errors.h"

namespace tile {
namespace detail {

namespace {
thread_local KernelBuilder::State* g_current = nullptr;
}

CurrentKernel::CurrentKernel(KernelBuilder::State* state) : previous_(g_current) { g_current = state; }
CurrentKernel::~CurrentKernel() { g_current = previous_; }

KernelBuilder::State& current(const char* op) {
  if (!g_current) fail(op, "no kernel is being built (call ops inside a kernel function)");
  return *g_current;
}

void fail(const std::string& op, const std::string& message) { throw BuildError(op + ": " + message); }

mlir::Value unwrap(const Value& v) {
  if (!v.impl()) fail("dsl", "use of an empty value (a default-constructed Tile/Scalar/Ptr)");
  return mlir::Value::getFromOpaquePointer(v.impl());
}

mlir::Type element_type(DType t, mlir::MLIRContext* ctx) {
  switch (t) {
    case DType::f16: return mlir::Float16Type::get(ctx);
    case DType::bf16: return mlir::BFloat16Type::get(ctx);
    case DType::f32: return mlir::Float32Type::get(ctx);
    case DType::f64: return mlir::Float64Type::get(ctx);
    case DType::i32: return mlir::IntegerType::get(ctx, 32);
    case DType::i64: return mlir::IntegerType::get(ctx, 64);
    case DType::i1: return mlir::IntegerType::get(ctx, 1);
  }
  fail("dsl", "unknown dtype");
}

DType dtype_of(mlir::Type e, const std::string& op) {
  if (e.isF16()) return DType::f16;
  if (e.isBF16()) return DType::bf16;
  if (e.isF32()) return DType::f32;
  if (e.isF64()) return DType::f64;
  if (e.isInteger(32)) return DType::i32;
  if (e.isInteger(64)) return DType::i64;
  if (e.isInteger(1)) return DType::i1;
  std::string s;
  llvm::raw_string_ostream os(s);
  os << e;
  fail(op, "unsupported element type " + s);
}

mlir::Type element_of(mlir::Value v) {
  mlir::Type t = v.getType();
  if (auto r = llvm::dyn_cast<mlir::RankedTensorType>(t)) return r.getElementType();
  if (auto p = llvm::dyn_cast<ir::PtrType>(t)) return p.getPointee();
  return t;
}

Shape shape_of(mlir::Value v) {
  if (auto r = llvm::dyn_cast<mlir::RankedTensorType>(v.getType()))
    return Shape(r.getShape().begin(), r.getShape().end());
  return {};
}

std::string type_str(mlir::Type t) {
  if (auto r = llvm::dyn_cast<mlir::RankedTensorType>(t))
    return std::string(dtype_name(dtype_of(r.getElementType(), "dsl"))) +
           shape_str(Shape(r.getShape().begin(), r.getShape().end()));
  if (auto p = llvm::dyn_cast<ir::PtrType>(t))
    return std::string("ptr<") + dtype_name(dtype_of(p.getPointee(), "dsl")) + ">";
  return dtype_name(dtype_of(t, "dsl"));
}

mlir::RankedTensorType tensor_type(const Shape& shape, mlir::Type element) {
  return mlir::RankedTensorType::get(shape, element);
}

static std::string number_str(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

mlir::Value constant(double value, DType t, const std::string& op) {
  auto& b = builder(op.c_str());
  mlir::Type type = element_type(t, b.getContext());
  mlir::TypedAttr attr;
  if (is_float(t)) {
    attr = b.getFloatAttr(type, value);
  } else {
    if (std::isnan(value) || value != std::floor(value))
    fail(op, "literal " + number_str(value) + " is not an integer (operand is " + dtype_name(t) + ")");
  int bits = type.getIntOrFloatBitWidth();
  double lo = bits == 1 ? 0 : -std::ldexp(1.0, bits - 1), hi = bits == 1 ? 1 : std::ldexp(1.0, bits - 1) - 1;
    if (value < lo || value > hi)
      fail(op, "literal " + number_str(value) + " does not fit " + dtype_name(t));
    attr = b.getIntegerAttr(type, int64_t(value));
  }
  KernelBuilder::State& s = current(op.c_str());
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  auto key = std::make_pair(type.getAsOpaquePointer(), bits);
  if (auto it = s.constants.find(key); it != s.constants.end()) return it->second;
  mlir::OpBuilder::InsertionGuard guard(b);
  if (s.last_constant)
    b.setInsertionPointAfter(s.last_constant);
  else
    b.setInsertionPointToStart(s.entry);
  auto c = mlir::arith::ConstantOp::create(b, loc(), attr);
  s.last_constant = c;
  s.constants[key] = c;
  return c;
}

mlir::Value scalar_as(const Scalar& s, DType want, const std::string& op) {
  if (s.is_literal()) return constant(s.literal(), want, op);
  mlir::Value v = unwrap(s);
  DType have = dtype_of(element_of(v), op);
  if (have != want)
    fail(op, std::string("scalar is ") + dtype_name(have) + ", expected " + dtype_name(want));
  return v;
}

mlir::Value scalar_value(const Scalar& s, const std::string& op) {
  if (s.is_literal()) return constant(s.literal(), s.literal_is_int() ? DType::i32 : DType::f32, op);
  return unwrap(s);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(op, "cannot broadcast " + shape_str(a) + " with " + shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

mlir::Value broadcast_value(mlir::Value v, const Shape& shape, const std::string& op) {
  auto& b = builder(op.c_str());
  mlir::Type elem = element_of(v);
  Shape have = shape_of(v);
  if (!llvm::isa<mlir::RankedTensorType>(v.getType())) {
    if (shape.empty()) return v;  // scalar to scalar: nothing to splat
    return ir::SplatOp::create(b, loc(), tensor_type(shape, elem), v);
  }
  if (have == shape) return v;
  broadcast_shapes(have, shape, op);  // validates
  if (have.size() > shape.size())
    fail(op, "cannot broadcast " + shape_str(have) + " to " + shape_str(shape));
  while (have.size() < shape.size()) {  // numpy: missing dims are leading
    have.insert(have.begin(), 1);
    v = ir::ExpandDimsOp::create(b, loc(), tensor_type(have, elem), v, b.getI32IntegerAttr(0));
  }
  for (size_t i = 0; i < shape.size(); ++i)
    if (have[i] != shape[i] && have[i] != 1)
      fail(op, "cannot broadcast " + shape_str(shape_of(v)) + " to " + shape_str(shape));
  if (have != shape) v = ir::BroadcastOp::create(b, loc(), tensor_type(shape, elem), v);
  return v;
}

}  // namespace detail

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

bool Value::is_tile() const {
  return impl_ && llvm::isa<mlir::RankedTensorType>(detail::unwrap(*this).getType());
}
bool Value::is_ptr() const { return impl_ && llvm::isa<ir::PtrType>(detail::unwrap(*this).getType()); }

DType Scalar::dtype() const {
  if (is_literal_) return literal_is_int_ ? DType::i32 : DType::f32;
  return Value::dtype();
}

std::string Scalar::type_str() const {
  if (is_literal_) return std::string("literal ") + dtype_name(dtype());
  return Value::type_str();
}

DType Value::dtype() const {
  return detail::dtype_of(detail::element_of(detail::unwrap(*this)), "dsl");
}

Shape Value::shape() const { return impl_ ? detail::shape_of(detail::unwrap(*this)) : Shape{}; }

std::string Value::type_str() const {
  if (!impl_) return "literal";
  return detail::type_str(detail::unwrap(*this).getType());
}

Scalar::Scalar(const Value& v) : Value(v) {
  if (impl_ && (is_tile() || is_ptr())) detail::fail("Scalar", "value is " + type_str() + ", not a scalar");
}

Tile::Tile(const Value& v) : Value(v) {
  if (impl_ && !is_tile()) detail::fail("Tile", "value is " + type_str() + ", not a tile");
}

Ptr::Ptr(const Value& v) : Value(v) {
  if (impl_ && !is_ptr()) detail::fail("Ptr", "value is " + type_str() + ", not a pointer");
}

Scalar Scalar::constant(double v, DType t) { return Scalar(detail::wrap(detail::constant(v, t, "constant"))); }

}  // namespace tile
