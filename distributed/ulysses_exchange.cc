#include "distributed/ulysses_exchange.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace tile {
namespace dist {
namespace {

void check_split(const Transport& group, const TensorView& t, int head_dim, int64_t expected_heads,
                 const HeadSplit& split, const char* what) {
  if (!split.valid() || split.degree != group.world_size())
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(split.heads) +
                                " heads cannot be split over a Ulysses group of " + std::to_string(group.world_size()) +
                                " ranks (heads % degree or degree % heads must be 0)");
  if (head_dim >= t.rank || t.size(head_dim) != expected_heads)
    throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(expected_heads) +
                                " heads along dim " + std::to_string(head_dim) + ", got " + describe(t));
}

// [degree] + shape: one contiguous block per peer.
std::vector<int64_t> blocks_shape(int degree, std::vector<int64_t> shape) {
  shape.insert(shape.begin(), degree);
  return shape;
}

}  // namespace

DeviceTensor scatter_heads(Transport& group, TensorOps& ops, const TensorView& local, int seq_dim, int head_dim,
                           const HeadSplit& split) {
  check_split(group, local, head_dim, split.heads, split, "scatter_heads");
  const int degree = group.world_size();
  const int64_t n = split.per_rank(), rows = local.size(seq_dim);
  std::vector<int64_t> block = local.sizes();
  block[static_cast<size_t>(head_dim)] = n;
  DeviceTensor send = ops.empty(local.dtype, blocks_shape(degree, block));
  DeviceTensor recv = ops.empty(local.dtype, blocks_shape(degree, block));
  for (int p = 0; p < degree; ++p) ops.copy(send.view.select(0, p), slice(local, head_dim, split.first(p), n));
  group.all_to_all(send.view.data, recv.view.data, send.bytes() / static_cast<size_t>(degree));
  std::vector<int64_t> full_shape = block;
  full_shape[static_cast<size_t>(seq_dim)] = rows * degree;
  DeviceTensor full = ops.empty(local.dtype, full_shape);
  for (int p = 0; p < degree; ++p) ops.copy(slice(full.view, seq_dim, p * rows, rows), recv.view.select(0, p));
  return full;
}

DeviceTensor gather_heads(Transport& group, TensorOps& ops, const TensorView& full, int seq_dim, int head_dim,
                          const HeadSplit& split, DType dtype) {
  check_split(group, full, head_dim, split.per_rank(), split, "gather_heads");
  const int degree = group.world_size();
  const int64_t n = split.per_rank();
  if (full.size(seq_dim) % degree != 0)
    throw std::invalid_argument("gather_heads: " + std::to_string(full.size(seq_dim)) + " rows do not split over " +
                                std::to_string(degree) + " ranks");
  const int64_t rows = full.size(seq_dim) / degree;
  std::vector<int64_t> block = full.sizes();
  block[static_cast<size_t>(seq_dim)] = rows;
  DeviceTensor send = ops.empty(full.dtype, blocks_shape(degree, block));
  DeviceTensor recv = ops.empty(full.dtype, blocks_shape(degree, block));
  for (int p = 0; p < degree; ++p) ops.copy(send.view.select(0, p), slice(full, seq_dim, p * rows, rows));
  group.all_to_all(send.view.data, recv.view.data, send.bytes() / static_cast<size_t>(degree));
  std::vector<int64_t> local_shape = block;
  local_shape[static_cast<size_t>(head_dim)] = split.heads;
  DeviceTensor local = ops.empty(dtype, local_shape);
  if (!split.replicated()) {
    for (int p = 0; p < degree; ++p) ops.copy(slice(local.view, head_dim, split.first(p), n), recv.view.select(0, p));
    return local;
  }
  // Every head came back from degree / heads ranks: their sum is the gradient.
  DeviceTensor sum = ops.zeros(DType::f32, local_shape);
  for (int p = 0; p < degree; ++p) ops.accumulate(slice(sum.view, head_dim, split.first(p), n), recv.view.select(0, p));
  ops.copy(local.view, sum.view);
  return local;
}

}  // namespace dist
}  // namespace tile
