// Global memory ops. Shapes, dtypes and argument counts are checked here so that a mistake is a
// BuildError naming the op ("store_block: value dtype f32 differs from pointer's bf16").
#include "dsl/memory.h"

#include "dsl/builder_state.h"
#include "dsl/ops.h"

namespace tile {

using detail::fail;
using detail::unwrap;
using detail::wrap;

namespace {

std::vector<mlir::Value> i32_list(const Ints& xs, const char* op, const char* what) {
  std::vector<mlir::Value> out;
  for (const Int& x : xs) {
    if (!x.is_literal() && x.dtype() != DType::i32)
      fail(op, std::string(what) + " must be i32, got " + x.type_str());
    out.push_back(detail::scalar_as(x, DType::i32, op));
  }
  return out;
}

mlir::Value ptr_value(const Ptr& p, const char* op) {
  if (!p.impl()) fail(op, "pointer is empty");
  return unwrap(p);
}

void check_block_args(const Ints& shape, const Ints& strides, const Ints& offsets, const Shape& block,
                      const char* op) {
  size_t r = block.size();
  if (r == 0) fail(op, "block shape must have at least one dim");
  for (int64_t d : block)
    if (d <= 0) fail(op, "block shape " + shape_str(block) + " has a non-positive dim");
  if (shape.size() != r || strides.size() != r || offsets.size() != r)
    fail(op, "block " + shape_str(block) + " needs " + std::to_string(r) + " shape/strides/offsets each, got " +
                 std::to_string(shape.size()) + "/" + std::to_string(strides.size()) + "/" +
                 std::to_string(offsets.size()));
}

mlir::Value offsets_value(const Tile& offsets, const char* op) {
  mlir::Value v = unwrap(offsets);
  if (!llvm::isa<mlir::RankedTensorType>(v.getType()) || offsets.dtype() != DType::i32)
    fail(op, "offsets must be an i32 tile, got " + offsets.type_str());
  return v;
}

mlir::Value mask_value(const Tile& mask, const Shape& shape, const char* op) {
  if (mask.dtype() != DType::i1) fail(op, "mask must be an i1 tile, got " + mask.type_str());
  return detail::broadcast_value(unwrap(mask), shape, op);
}

// The value to write, broadcast to the offsets' shape and checked against the pointee.
mlir::Value stored_value(const Ptr& p, const Tile& value, const Shape& shape, const char* op) {
  if (value.dtype() != p.pointee())
    fail(op, std::string("value dtype ") + dtype_name(value.dtype()) + " differs from pointer's " +
                 dtype_name(p.pointee()));
  return detail::broadcast_value(unwrap(value), shape, op);
}

}  // namespace

Ptr operator+(const Ptr& p, const Int& offset) {
  const char* op = "addptr";
  mlir::Value vp = ptr_value(p, op);
  if (!offset.is_literal() && offset.dtype() != DType::i32 && offset.dtype() != DType::i64)
    fail(op, "offset must be i32 or i64, got " + offset.type_str());
  mlir::Value off = detail::scalar_as(offset, offset.is_literal() ? DType::i32 : offset.dtype(), op);
  return Ptr(wrap(ir::AddPtrOp::create(detail::builder(op), detail::loc(), vp.getType(), vp, off)));
}

Scalar load_scalar(const Ptr& p, const Int& index) {
  const char* op = "load_scalar";
  mlir::Value vp = ptr_value(p, op);
  if (!index.is_literal() && index.dtype() != DType::i32) fail(op, "index must be i32, got " + index.type_str());
  mlir::Value idx = detail::scalar_as(index, DType::i32, op);
  return Scalar(wrap(ir::LoadScalarOp::create(detail::builder(op), detail::loc(), detail::element_of(vp), vp, idx)));
}

Tile load_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets,
                const Shape& block_shape, double padding) {
  const char* op = "load_block";
  mlir::Value vp = ptr_value(p, op);
  check_block_args(shape, strides, offsets, block_shape, op);
  auto sh = i32_list(shape, op, "shape"), st = i32_list(strides, op, "strides"), of = i32_list(offsets, op, "offsets");
  auto& b = detail::builder(op);
  auto type = detail::tensor_type(block_shape, detail::element_of(vp));
  return Tile(wrap(ir::LoadBlockOp::create(b, detail::loc(), type, vp, sh, st, of, b.getF64FloatAttr(padding))));
}

void store_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets, const Tile& value) {
  const char* op = "store_block";
  mlir::Value vp = ptr_value(p, op);
  Shape block = value.shape();
  if (block.empty()) fail(op, "value must be a tile, got " + value.type_str());
  check_block_args(shape, strides, offsets, block, op);
  if (value.dtype() != p.pointee())
    fail(op, std::string("value dtype ") + dtype_name(value.dtype()) + " differs from pointer's " +
                 dtype_name(p.pointee()));
  auto sh = i32_list(shape, op, "shape"), st = i32_list(strides, op, "strides"), of = i32_list(offsets, op, "offsets");
  ir::StoreBlockOp::create(detail::builder(op), detail::loc(), vp, sh, st, of, unwrap(value));
}

void atomic_add_block(const Ptr& p, const Ints& shape, const Ints& strides, const Ints& offsets,
                      const Tile& value) {
  const char* op = "atomic_add_block";
  mlir::Value vp = ptr_value(p, op);
  Shape block = value.shape();
  if (block.empty()) fail(op, "value must be a tile, got " + value.type_str());
  check_block_args(shape, strides, offsets, block, op);
  if (value.dtype() != DType::f32 || p.pointee() != DType::f32)
    fail(op, std::string("needs an f32 value and pointer, got ") + dtype_name(value.dtype()) + " into " +
                 dtype_name(p.pointee()));
  auto sh = i32_list(shape, op, "shape"), st = i32_list(strides, op, "strides"), of = i32_list(offsets, op, "offsets");
  ir::AtomicAddBlockOp::create(detail::builder(op), detail::loc(), vp, sh, st, of, unwrap(value));
}

BlockPtr make_block_ptr(const Ptr& base, const Ints& shape, const Ints& strides, const Ints& offsets,
                        const Shape& block_shape) {
  check_block_args(shape, strides, offsets, block_shape, "make_block_ptr");
  return BlockPtr{base, shape, strides, offsets, block_shape};
}

BlockPtr BlockPtr::advance(const Ints& delta) const {
  if (delta.size() != offsets.size())
    fail("advance", "block " + shape_str(block) + " needs " + std::to_string(offsets.size()) + " deltas, got " +
                        std::to_string(delta.size()));
  BlockPtr next = *this;
  for (size_t i = 0; i < delta.size(); ++i) {
    // Keep untouched dims as they are (no `+ 0` ops in the IR).
    if (delta[i].is_literal() && delta[i].literal() == 0) continue;
    next.offsets[i] = offsets[i] + delta[i];
  }
  return next;
}

BlockPtr BlockPtr::at(const Ints& new_offsets) const {
  if (new_offsets.size() != offsets.size())
    fail("at", "block " + shape_str(block) + " needs " + std::to_string(offsets.size()) + " offsets, got " +
                   std::to_string(new_offsets.size()));
  BlockPtr next = *this;
  next.offsets = new_offsets;
  return next;
}

Tile load(const BlockPtr& bp, double padding) {
  return load_block(bp.base, bp.shape, bp.strides, bp.offsets, bp.block, padding);
}

void store(const BlockPtr& bp, const Tile& value) {
  if (value.shape() != bp.block)
    fail("store_block", "value " + value.type_str() + " does not match the block " + shape_str(bp.block));
  store_block(bp.base, bp.shape, bp.strides, bp.offsets, value);
}

Tile load(const Ptr& p, const Tile& offsets) {
  const char* op = "load";
  mlir::Value vp = ptr_value(p, op), off = offsets_value(offsets, op);
  auto type = detail::tensor_type(offsets.shape(), detail::element_of(vp));
  return Tile(wrap(ir::LoadOp::create(detail::builder(op), detail::loc(), type, vp, off, mlir::Value(), mlir::Value())));
}

Tile load(const Ptr& p, const Tile& offsets, const Tile& mask, const Scalar& other) {
  const char* op = "load";
  mlir::Value vp = ptr_value(p, op), off = offsets_value(offsets, op);
  Shape shape = offsets.shape();
  mlir::Value m = mask_value(mask, shape, op);
  mlir::Value o = detail::scalar_as(other, p.pointee(), op);
  auto type = detail::tensor_type(shape, detail::element_of(vp));
  return Tile(wrap(ir::LoadOp::create(detail::builder(op), detail::loc(), type, vp, off, m, o)));
}

void store(const Ptr& p, const Tile& offsets, const Tile& value) {
  const char* op = "store";
  mlir::Value vp = ptr_value(p, op), off = offsets_value(offsets, op);
  mlir::Value v = stored_value(p, value, offsets.shape(), op);
  ir::StoreOp::create(detail::builder(op), detail::loc(), vp, off, v, mlir::Value());
}

void store(const Ptr& p, const Tile& offsets, const Tile& value, const Tile& mask) {
  const char* op = "store";
  mlir::Value vp = ptr_value(p, op), off = offsets_value(offsets, op);
  mlir::Value v = stored_value(p, value, offsets.shape(), op);
  mlir::Value m = mask_value(mask, offsets.shape(), op);
  ir::StoreOp::create(detail::builder(op), detail::loc(), vp, off, v, m);
}

namespace {
void atomic_add_impl(const Ptr& p, const Tile& offsets, const Tile& value, const Tile* mask) {
  const char* op = "atomic_add";
  mlir::Value vp = ptr_value(p, op), off = offsets_value(offsets, op);
  if (p.pointee() != DType::f32 || value.dtype() != DType::f32)
    fail(op, "only f32 is supported, got value " + value.type_str() + " into " + p.type_str());
  mlir::Value v = stored_value(p, value, offsets.shape(), op);
  mlir::Value m = mask ? mask_value(*mask, offsets.shape(), op) : mlir::Value();
  ir::AtomicAddOp::create(detail::builder(op), detail::loc(), vp, off, v, m);
}
}  // namespace

void atomic_add(const Ptr& p, const Tile& offsets, const Tile& value) { atomic_add_impl(p, offsets, value, nullptr); }
void atomic_add(const Ptr& p, const Tile& offsets, const Tile& value, const Tile& mask) {
  atomic_add_impl(p, offsets, value, &mask);
}

}  // namespace tile
