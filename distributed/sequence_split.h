// How a global sequence is split over the ranks, and the index mapping between a rank's local
// rows and global positions. Host-side: used to shard inputs and gather results (tests, the check
// CLI); the ring itself only ever sees local shards.
//
// The splits of one ring (RingMode over W ranks):
//   ring   rank r holds tokens [r*S/W, (r+1)*S/W)
//   zigzag the sequence in 2W chunks, rank r holds chunks r and 2W-1-r, in that order
//   stripe rank r holds tokens r, r+W, r+2W, ... (local row i = global i*W + r)
// USP's 2-D grid (SequenceLayout): rank g = ring_index * U + ulysses_index, so a Ulysses group is
// U consecutive ranks (one node's GPUs) and a ring group the ranks with the same ulysses_index.
// The ring split cuts the sequence over the R ring parts; each part's local rows are cut into U
// contiguous pieces, one per rank of the Ulysses group. Plain Ulysses is R = 1 (contiguous
// shards), a plain ring U = 1.
#pragma once

#include <cstdint>
#include <string>

#include "distributed/ring_schedule.h"
#include "dsl/core/tensor_view.h"

namespace tile {
namespace dist {

struct SequenceLayout {
  RingMode ring_split = RingMode::ring;
  int ring_degree = 1;
  int ulysses_degree = 1;

  int world() const { return ring_degree * ulysses_degree; }
  int ring_index(int rank) const { return rank / ulysses_degree; }
  int ulysses_index(int rank) const { return rank % ulysses_degree; }
  // A plain ring of `world` ranks.
  static SequenceLayout ring(RingMode mode, int world) { return {mode, world, 1}; }
};

// Throws std::invalid_argument naming seq_len when it does not split evenly: ring and stripe
// need seq_len % world == 0, zigzag seq_len % (2 * world) == 0; with Ulysses, each ring part
// (seq_len / ring_degree) must also split into ulysses_degree pieces.
void check_sequence_split(RingMode mode, int64_t seq_len, int world);
void check_sequence_split(const SequenceLayout& layout, int64_t seq_len);

// Global position of local row `local` of rank `rank` (local rows: 0 .. seq_len / world - 1).
int64_t global_position(RingMode mode, int64_t seq_len, int world, int rank, int64_t local);
int64_t global_position(const SequenceLayout& layout, int64_t seq_len, int rank, int64_t local);

// Copies rank `rank`'s rows of `global` (sequence along `seq_dim`) into a contiguous host tensor
// of the same dtype.
HostTensor shard_sequence(const TensorView& global, int seq_dim, RingMode mode, int world, int rank);
HostTensor shard_sequence(const TensorView& global, int seq_dim, const SequenceLayout& layout, int rank);

// Writes a rank's local rows back into their global positions.
void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, RingMode mode, int world, int rank);
void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, const SequenceLayout& layout,
                      int rank);

}  // namespace dist
}  // namespace tile
