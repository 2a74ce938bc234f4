#include "distributed/sequence_split.h"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace tile {
namespace dist {

void check_sequence_split(RingMode mode, int64_t seq_len, int world) {
  if (world < 1) throw std::invalid_argument("world size: expected >= 1, got " + std::to_string(world));
  const int64_t parts = mode == RingMode::zigzag ? 2 * static_cast<int64_t>(world) : world;
  if (seq_len <= 0 || seq_len % parts != 0)
    throw std::invalid_argument("seq_len: " + std::string(ring_mode_name(mode)) + " over " + std::to_string(world) +
                                " ranks needs a positive multiple of " + std::to_string(parts) + ", got " +
                                std::to_string(seq_len));
}

void check_sequence_split(const SequenceLayout& layout, int64_t seq_len) {
  if (layout.ulysses_degree < 1)
    throw std::invalid_argument("ulysses_degree: expected >= 1, got " + std::to_string(layout.ulysses_degree));
  check_sequence_split(layout.ring_split, seq_len, layout.ring_degree);
  const int64_t part = seq_len / layout.ring_degree;
  if (part % layout.ulysses_degree != 0)
    throw std::invalid_argument("seq_len: Ulysses degree " + std::to_string(layout.ulysses_degree) + " needs each of the " +
                                std::to_string(layout.ring_degree) + " ring parts (" + std::to_string(part) +
                                " tokens) to be a multiple of " + std::to_string(layout.ulysses_degree) + ", got seq_len " +
                                std::to_string(seq_len));
}

int64_t global_position(RingMode mode, int64_t seq_len, int world, int rank, int64_t local) {
  check_sequence_split(mode, seq_len, world);
  const int64_t per_rank = seq_len / world;
  if (rank < 0 || rank >= world || local < 0 || local >= per_rank)
    throw std::out_of_range("global_position: rank " + std::to_string(rank) + " row " + std::to_string(local) +
                            " outside " + std::to_string(world) + " ranks of " + std::to_string(per_rank) + " rows");
  if (mode == RingMode::ring) return rank * per_rank + local;
  if (mode == RingMode::stripe) return local * world + rank;
  const int64_t chunk = per_rank / 2;
  const int64_t c = local < chunk ? rank : 2 * static_cast<int64_t>(world) - 1 - rank;
  return c * chunk + local % chunk;
}

int64_t global_position(const SequenceLayout& layout, int64_t seq_len, int rank, int64_t local) {
  check_sequence_split(layout, seq_len);
  const int64_t per_rank = seq_len / layout.world();
  if (rank < 0 || rank >= layout.world() || local < 0 || local >= per_rank)
    throw std::out_of_range("global_position: rank " + std::to_string(rank) + " row " + std::to_string(local) +
                            " outside " + std::to_string(layout.world()) + " ranks of " + std::to_string(per_rank) +
                            " rows");
  const int64_t ring_local = layout.ulysses_index(rank) * per_rank + local;
  return global_position(layout.ring_split, seq_len, layout.ring_degree, layout.ring_index(rank), ring_local);
}

namespace {

// Calls f(local_row, global_row) for every local row of a rank.
template <typename F>
void for_each_row(const SequenceLayout& layout, int64_t seq_len, int rank, F f) {
  const int64_t per_rank = seq_len / layout.world();
  for (int64_t i = 0; i < per_rank; ++i) f(i, global_position(layout, seq_len, rank, i));
}

void copy_slice(const TensorView& dst, const TensorView& src) {
  for (int64_t e = 0, n = src.numel(); e < n; ++e)
    store_from_double(dst.dtype, dst.data, dst.offset_of_linear(e), load_as_double(src.dtype, src.data, src.offset_of_linear(e)));
}

}  // namespace

HostTensor shard_sequence(const TensorView& global, int seq_dim, const SequenceLayout& layout, int rank) {
  const int64_t seq_len = global.size(seq_dim);
  check_sequence_split(layout, seq_len);
  std::vector<int64_t> shape = global.sizes();
  shape[static_cast<size_t>(seq_dim)] = seq_len / layout.world();
  HostTensor local(global.dtype, shape);
  for_each_row(layout, seq_len, rank, [&](int64_t l, int64_t g) {
    copy_slice(local.view().select(seq_dim, l), global.select(seq_dim, g));
  });
  return local;
}

HostTensor shard_sequence(const TensorView& global, int seq_dim, RingMode mode, int world, int rank) {
  return shard_sequence(global, seq_dim, SequenceLayout::ring(mode, world), rank);
}

void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, const SequenceLayout& layout,
                      int rank) {
  const int64_t seq_len = global.size(seq_dim);
  check_sequence_split(layout, seq_len);
  if (local.size(seq_dim) != seq_len / layout.world())
    throw std::invalid_argument("unshard_sequence: local has " + std::to_string(local.size(seq_dim)) +
                                " rows, expected " + std::to_string(seq_len / layout.world()));
  for_each_row(layout, seq_len, rank, [&](int64_t l, int64_t g) {
    copy_slice(global.select(seq_dim, g), local.select(seq_dim, l));
  });
}

void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, RingMode mode, int world, int rank) {
  unshard_sequence(local, global, seq_dim, SequenceLayout::ring(mode, world), rank);
}

}  // namespace dist
}  // namespace tile
