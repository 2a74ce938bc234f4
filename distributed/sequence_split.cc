#include "distributed/sequence_split.h"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace tile {
namespace dist {

void check_sequence_split(RingMode mode, int64_t seq_len, int world) {
  if (world < 1) throw std::invalid_argument("world size: expected >= 1, got " + std::to_string(world));
  const int64_t parts = mode == RingMode::ring ? world : 2 * static_cast<int64_t>(world);
  if (seq_len <= 0 || seq_len % parts != 0)
    throw std::invalid_argument("seq_len: " + std::string(ring_mode_name(mode)) + " over " + std::to_string(world) +
                                " ranks needs a positive multiple of " + std::to_string(parts) + ", got " +
                                std::to_string(seq_len));
}

int64_t global_position(RingMode mode, int64_t seq_len, int world, int rank, int64_t local) {
  check_sequence_split(mode, seq_len, world);
  const int64_t per_rank = seq_len / world;
  if (rank < 0 || rank >= world || local < 0 || local >= per_rank)
    throw std::out_of_range("global_position: rank " + std::to_string(rank) + " row " + std::to_string(local) +
                            " outside " + std::to_string(world) + " ranks of " + std::to_string(per_rank) + " rows");
  if (mode == RingMode::ring) return rank * per_rank + local;
  const int64_t chunk = per_rank / 2;
  const int64_t c = local < chunk ? rank : 2 * static_cast<int64_t>(world) - 1 - rank;
  return c * chunk + local % chunk;
}

namespace {

// Calls f(local_row, global_row) for every local row of a rank.
template <typename F>
void for_each_row(RingMode mode, int64_t seq_len, int world, int rank, F f) {
  const int64_t per_rank = seq_len / world;
  for (int64_t i = 0; i < per_rank; ++i) f(i, global_position(mode, seq_len, world, rank, i));
}

void copy_slice(const TensorView& dst, const TensorView& src) {
  for (int64_t e = 0, n = src.numel(); e < n; ++e)
    store_from_double(dst.dtype, dst.data, dst.offset_of_linear(e), load_as_double(src.dtype, src.data, src.offset_of_linear(e)));
}

}  // namespace

HostTensor shard_sequence(const TensorView& global, int seq_dim, RingMode mode, int world, int rank) {
  const int64_t seq_len = global.size(seq_dim);
  check_sequence_split(mode, seq_len, world);
  std::vector<int64_t> shape = global.sizes();
  shape[static_cast<size_t>(seq_dim)] = seq_len / world;
  HostTensor local(global.dtype, shape);
  for_each_row(mode, seq_len, world, rank, [&](int64_t l, int64_t g) {
    copy_slice(local.view().select(seq_dim, l), global.select(seq_dim, g));
  });
  return local;
}

void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, RingMode mode, int world, int rank) {
  const int64_t seq_len = global.size(seq_dim);
  check_sequence_split(mode, seq_len, world);
  if (local.size(seq_dim) != seq_len / world)
    throw std::invalid_argument("unshard_sequence: local has " + std::to_string(local.size(seq_dim)) +
                                " rows, expected " + std::to_string(seq_len / world));
  for_each_row(mode, seq_len, world, rank, [&](int64_t l, int64_t g) {
    copy_slice(global.select(seq_dim, g), local.select(seq_dim, l));
  });
}

}  // namespace dist
}  // namespace tile
