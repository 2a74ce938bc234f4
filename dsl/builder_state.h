// Internal: the MLIR state behind KernelBuilder and the helpers every op file shares
// (unwrapping handles, dtype <-> mlir::Type, materialising literals, broadcasting, errors).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dsl/ir/TileDialect.h"
#include "dsl/kernel.h"
#include "dsl/values.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace tile {

struct KernelBuilder::State {
  State(mlir::MLIRContext& ctx, std::string kernel_name, Params kernel_params)
      : builder(&ctx), loc(mlir::UnknownLoc::get(&ctx)), name(std::move(kernel_name)),
        params(std::move(kernel_params)) {}

  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::Block* entry = nullptr;
  std::string name;
  Params params;
  KernelSignature signature;
  // Scalar constants live at the top of the entry block, one per (type, value), so they dominate
  // every use and the IR stays readable.
  std::map<std::pair<const void*, uint64_t>, mlir::Value> constants;
  mlir::Operation* last_constant = nullptr;
};

namespace detail {

// Makes `state` the kernel the free ops add to, for the lifetime of this object.
class CurrentKernel {
 public:
  explicit CurrentKernel(KernelBuilder::State* state);
  ~CurrentKernel();
  CurrentKernel(const CurrentKernel&) = delete;
  CurrentKernel& operator=(const CurrentKernel&) = delete;

 private:
  KernelBuilder::State* previous_;
};

// The kernel being built; `op` names the caller in the error when there is none.
KernelBuilder::State& current(const char* op);
inline mlir::OpBuilder& builder(const char* op) { return current(op).builder; }
inline mlir::Location loc() { return current("dsl").loc; }

[[noreturn]] void fail(const std::string& op, const std::string& message);

mlir::Value unwrap(const Value& v);
inline Value wrap(mlir::Value v) { return Value(v.getAsOpaquePointer()); }

mlir::Type element_type(DType t, mlir::MLIRContext* ctx);
DType dtype_of(mlir::Type element, const std::string& op);  // throws for unsupported types
std::string type_str(mlir::Type t);                          // "f32[64,32]", "i32", "ptr<bf16>"
Shape shape_of(mlir::Value v);                                // empty for scalars
mlir::Type element_of(mlir::Value v);                         // tensor element, pointee or itself

// A constant of type `t` (scalar). `op` is named if the value does not fit the type.
mlir::Value constant(double value, DType t, const std::string& op);
// The scalar as an SSA value of `want` (literals are materialised, values are checked).
mlir::Value scalar_as(const Scalar& s, DType want, const std::string& op);
// The scalar as an SSA value; a literal becomes i32 (integer) or f32 (real).
mlir::Value scalar_value(const Scalar& s, const std::string& op);

// numpy broadcasting of two shapes; throws "OP: cannot broadcast [a] with [b]".
Shape broadcast_shapes(const Shape& a, const Shape& b, const std::string& op);
// `v` (tile or scalar) brought to `shape` with tile.splat / tile.expand_dims / tile.broadcast.
mlir::Value broadcast_value(mlir::Value v, const Shape& shape, const std::string& op);

mlir::RankedTensorType tensor_type(const Shape& shape, mlir::Type element);

}  // namespace detail
}  // namespace tile
