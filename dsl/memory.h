// Global memory: pointer arithmetic, block loads/stores of strided tensors with boundary masking,
// pointer-tile gathers/scatters with masks, scalar loads and atomics.
#pragma once

#include <vector>

#include "dsl/values.h"

namespace tile {

using Ints = std::vector<Int>;  // one i32 per dimension: {pid * 64, 0}

// ptr + offset elements (offset may be negative).
Ptr operator+(const Ptr& p, const Int& offset);

// One element ptr[index].
Scalar load_scalar(const Ptr& p, const Int& index = 0);

// The block at `offsets` of the tensor (ptr, shape, strides); elements outside `shape` read
// `padding` (0, -inf, NaN ...). Strides are in elements.
Tile load_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets,
                const Shape& block_shape, double padding = 0.0);
// Stores `value` there; elements outside `shape` are skipped.
void store_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets,
                 const Tile& value);

// Triton's make_block_ptr: a strided tensor plus the position and shape of one block of it.
struct BlockPtr {
  Ptr base;
  Ints shape, strides, offsets;
  Shape block;

  BlockPtr advance(const Ints& delta) const;  // offsets + delta
  BlockPtr at(const Ints& new_offsets) const;  // same tensor, other block
};
BlockPtr make_block_ptr(const Ptr& base, const Ints& shape, const Ints& strides,
                        const Ints& offsets, const Shape& block_shape);
Tile load(const BlockPtr& b, double padding = 0.0);
void store(const BlockPtr& b, const Tile& value);

// Gathers ptr[offsets] (offsets: i32 tile). Where `mask` is false the element is `other`
// (default 0). mask and other broadcast to the offsets' shape.
Tile load(const Ptr& p, const Tile& offsets);
Tile load(const Ptr& p, const Tile& offsets, const Tile& mask, const Scalar& other = 0);
// Scatters value to ptr[offsets] where mask is true. value and mask broadcast to the offsets.
void store(const Ptr& p, const Tile& offsets, const Tile& value);
void store(const Ptr& p, const Tile& offsets, const Tile& value, const Tile& mask);
// Atomic ptr[offsets] += value (f32 only) where mask is true.
void atomic_add(const Ptr& p, const Tile& offsets, const Tile& value);
// Atomically adds an f32 tile into the block of a strided tensor (store_block's addressing);
// elements outside `shape` are skipped.
void atomic_add_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets, const Tile& value);
void atomic_add(const Ptr& p, const Tile& offsets, const Tile& value, const Tile& mask);

}  // namespace tile
