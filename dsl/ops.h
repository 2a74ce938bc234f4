// Compute ops as free functions over the kernel being built (see kernel.h for how a kernel is
// defined). Every op checks shapes and dtypes first and throws tile::BuildError naming itself.
//
// Broadcasting follows numpy: shapes align on the right, dims of size 1 stretch, scalars splat
// (tile.expand_dims / tile.broadcast / tile.splat are inserted). Operands must have the same
// element type; convert explicitly with `.to<T>()`. C++ literals adopt the other operand's type.
//
// Naming: `max(x, axis)` with an integer is the REDUCTION along `axis` (numpy's np.max).
// The elementwise maximum is `maximum(a, b)` (also `max(tile, tile)`, `max(tile, 0.0)`).
#pragma once

#include "dsl/values.h"

namespace tile {

// --- program grid ---------------------------------------------------------------------------
Int program_id(int axis);
Int num_programs(int axis);

// --- arithmetic and comparisons (scalars: i32/f32; tiles: any numeric element type) -----------
#define TILE_DSL_BINARY(OP)                           \
  Scalar OP(const Scalar& a, const Scalar& b);        \
  Tile OP(const Tile& a, const Tile& b);              \
  Tile OP(const Tile& a, const Scalar& b);            \
  Tile OP(const Scalar& a, const Tile& b);
TILE_DSL_BINARY(operator+)
TILE_DSL_BINARY(operator-)
TILE_DSL_BINARY(operator*)
TILE_DSL_BINARY(operator/)  // integers: truncating, like C
TILE_DSL_BINARY(operator%)
TILE_DSL_BINARY(operator<)  // comparisons give i1
TILE_DSL_BINARY(operator<=)
TILE_DSL_BINARY(operator>)
TILE_DSL_BINARY(operator>=)
TILE_DSL_BINARY(operator==)
TILE_DSL_BINARY(operator!=)
TILE_DSL_BINARY(operator&)  // i1 (logical and) or i32 (bitwise)
TILE_DSL_BINARY(operator|)
TILE_DSL_BINARY(maximum)    // floats propagate NaN (arith.maximumf)
TILE_DSL_BINARY(minimum)
#undef TILE_DSL_BINARY

Scalar operator-(const Scalar& a);
Tile operator-(const Tile& a);
Scalar operator!(const Scalar& a);  // i1 only
Tile operator~(const Tile& a);      // i1 only: logical not

// Elementwise max/min spelled like std::max; see the note above about integer literals.
inline Scalar max(const Scalar& a, const Scalar& b) { return maximum(a, b); }
inline Scalar min(const Scalar& a, const Scalar& b) { return minimum(a, b); }
inline Tile max(const Tile& a, const Tile& b) { return maximum(a, b); }
inline Tile min(const Tile& a, const Tile& b) { return minimum(a, b); }
inline Tile max(const Tile& a, double b) { return maximum(a, Scalar(b)); }
inline Tile min(const Tile& a, double b) { return minimum(a, Scalar(b)); }
inline Tile max(const Tile& a, float b) { return maximum(a, Scalar(b)); }
inline Tile min(const Tile& a, float b) { return minimum(a, Scalar(b)); }
inline Tile max(const Tile& a, const Scalar& b) { return maximum(a, b); }
inline Tile min(const Tile& a, const Scalar& b) { return minimum(a, b); }
inline Tile max(const Scalar& a, const Tile& b) { return maximum(a, b); }
inline Tile min(const Scalar& a, const Tile& b) { return minimum(a, b); }

// ceil(a / b) for non-negative i32 scalars.
Int cdiv(const Int& a, const Int& b);

// Scalar select: cond ? a : b.
Scalar select(const Bool& cond, const Scalar& a, const Scalar& b);
// Tile select with broadcasting of all three (cond is i1; a scalar cond splats).
Tile where(const Tile& cond, const Tile& a, const Tile& b);
Tile where(const Tile& cond, const Tile& a, const Scalar& b);
Tile where(const Tile& cond, const Scalar& a, const Tile& b);
Tile where(const Tile& cond, const Scalar& a, const Scalar& b);
Tile where(const Bool& cond, const Tile& a, const Tile& b);

// --- math (float tiles and scalars) -----------------------------------------------------------
#define TILE_DSL_UNARY(NAME) \
  Tile NAME(const Tile& x);  \
  Scalar NAME(const Scalar& x);
TILE_DSL_UNARY(exp2)
TILE_DSL_UNARY(log2)
TILE_DSL_UNARY(exp)
TILE_DSL_UNARY(log)
TILE_DSL_UNARY(tanh)
TILE_DSL_UNARY(sqrt)
TILE_DSL_UNARY(rsqrt)
TILE_DSL_UNARY(abs)
#undef TILE_DSL_UNARY

// --- casts --------------------------------------------------------------------------------------
// float<->float (truncf/extf), i32->float (sitofp), float->i32 (fptosi), i1->i32/float.
Tile to(const Tile& x, DType t);
Scalar to(const Scalar& x, DType t);

// --- tile creation and shape ------------------------------------------------------------------
Tile full(const Shape& shape, const Scalar& value, DType t);
Tile full(const Shape& shape, const Scalar& value);  // dtype of the value (int literal: i32, float: f32)
Tile zeros(const Shape& shape, DType t);
template <class T> Tile zeros(const Shape& shape) { return zeros(shape, T::dtype); }
template <class T> Tile full(const Shape& shape, const Scalar& value) { return full(shape, value, T::dtype); }
// The 1-D i32 tile [start, ..., end-1].
Tile arange(int start, int end);

Tile expand_dims(const Tile& x, int axis);
Tile broadcast_to(const Tile& x, const Shape& shape);  // numpy rules (may add leading dims)
Tile trans(const Tile& x);

// --- matrix product -----------------------------------------------------------------------------
// a [M,K] @ b [K,N] + acc [M,N]: a and b both f16, bf16 or f32; acc and result f32.
Tile dot(const Tile& a, const Tile& b, const Tile& acc);
Tile dot(const Tile& a, const Tile& b);  // acc = 0

// --- reductions (the axis is dropped; a 2-D tile becomes 1-D) -------------------------------------
Tile max(const Tile& x, int axis);
Tile min(const Tile& x, int axis);
Tile sum(const Tile& x, int axis);
// Whole-tile reductions to a scalar.
Scalar max(const Tile& x);
Scalar min(const Tile& x);
Scalar sum(const Tile& x);
inline Tile row_max(const Tile& x) { return max(x, 1); }
inline Tile row_sum(const Tile& x) { return sum(x, 1); }

}  // namespace tile
