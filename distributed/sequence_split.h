// How a global sequence is split over the ranks, and the index mapping between a rank's local
// rows and global positions. Host-side: used to shard inputs and gather results (tests, the check
// CLI); the ring itself only ever sees local shards.
#pragma once

#include <cstdint>
#include <string>

#include "distributed/ring_schedule.h"
#include "dsl/core/tensor_view.h"

namespace tile {
namespace dist {

// Throws std::invalid_argument naming seq_len when it does not split evenly: ring needs
// seq_len % world == 0, zigzag seq_len % (2 * world) == 0.
void check_sequence_split(RingMode mode, int64_t seq_len, int world);

// Global position of local row `local` of rank `rank` (local rows: 0 .. seq_len / world - 1).
int64_t global_position(RingMode mode, int64_t seq_len, int world, int rank, int64_t local);

// Copies rank `rank`'s rows of `global` (sequence along `seq_dim`) into a contiguous host tensor
// of the same dtype.
HostTensor shard_sequence(const TensorView& global, int seq_dim, RingMode mode, int world, int rank);

// Writes a rank's local rows back into their global positions.
void unshard_sequence(const TensorView& local, TensorView& global, int seq_dim, RingMode mode, int world, int rank);

}  // namespace dist
}  // namespace tile
