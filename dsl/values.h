// DSL values: handles to SSA values of the kernel being built.
//
//   Scalar  an i32 / f32 / i1 scalar (aliases Int, Float, Bool say which one is meant). A C++
//           literal converts implicitly and takes the type of what it meets: `x * 0.5` on a bf16
//           tile multiplies by a bf16 constant, `pid * 64` by an i32 constant.
//   Tile    a ranked tensor with a static shape and element type (immutable, like every value).
//   Ptr     a typed global pointer (!tile.ptr<T>).
//
// Handles are cheap to copy and only valid while their kernel is being built. This header does
// not include MLIR, so kernel sources compile quickly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"

namespace tile {

using Shape = std::vector<int64_t>;

// Element type tags for templates: zeros<f32>({64, 64}), x.to<bf16>().
struct f16 { static constexpr DType dtype = DType::f16; };
struct bf16 { static constexpr DType dtype = DType::bf16; };
struct f32 { static constexpr DType dtype = DType::f32; };
struct i32 { static constexpr DType dtype = DType::i32; };
struct i64 { static constexpr DType dtype = DType::i64; };  // scalars only (64-bit offsets)
struct i1 { static constexpr DType dtype = DType::i1; };

// "[64,32]" for a shape, "[]" for a scalar.
std::string shape_str(const Shape& shape);

class Value {
 public:
  Value() = default;
  // `impl` is the opaque pointer of an mlir::Value.
  explicit Value(void* impl) : impl_(impl) {}

  void* impl() const { return impl_; }
  bool is_tile() const;
  bool is_ptr() const;
  DType dtype() const;   // element type (of the tile, the scalar, or the pointee)
  Shape shape() const;   // empty for scalars and pointers
  int64_t rank() const { return int64_t(shape().size()); }
  std::string type_str() const;  // "f32[64,32]", "i32", "ptr<bf16>"

 protected:
  void* impl_ = nullptr;
};

class Tile;

class Scalar : public Value {
 public:
  Scalar() = default;
  explicit Scalar(const Value& v);
  // Literals stay unmaterialised until an op decides their type.
  Scalar(int v) : literal_(double(v)), is_literal_(true), literal_is_int_(true) {}
  Scalar(long v) : literal_(double(v)), is_literal_(true), literal_is_int_(true) {}
  Scalar(long long v) : literal_(double(v)), is_literal_(true), literal_is_int_(true) {}
  Scalar(float v) : literal_(double(v)), is_literal_(true), literal_is_int_(false) {}
  Scalar(double v) : literal_(v), is_literal_(true), literal_is_int_(false) {}

  bool is_literal() const { return is_literal_; }
  double literal() const { return literal_; }
  bool literal_is_int() const { return literal_is_int_; }
  // A literal reports the type it would default to (i32 or f32).
  DType dtype() const;
  std::string type_str() const;

  // A materialised constant of a given type.
  static Scalar constant(double v, DType t);

  Scalar to(DType t) const;
  template <class T> Scalar to() const { return to(T::dtype); }

 private:
  double literal_ = 0;
  bool is_literal_ = false;
  bool literal_is_int_ = false;
};

using Int = Scalar;
using Float = Scalar;
using Bool = Scalar;

class Tile : public Value {
 public:
  Tile() = default;
  explicit Tile(const Value& v);

  Tile to(DType t) const;
  template <class T> Tile to() const { return to(T::dtype); }
  // [M] -> [M,1] (x[:, None]) and [N] -> [1,N] (x[None, :]).
  Tile col() const;
  Tile row() const;
  Tile t() const;  // 2-D transpose
};

class Ptr : public Value {
 public:
  Ptr() = default;
  explicit Ptr(const Value& v);
  DType pointee() const { return dtype(); }
};

}  // namespace tile
