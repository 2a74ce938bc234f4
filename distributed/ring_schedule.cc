#include "distributed/ring_schedule.h"

#include <stdexcept>

namespace tile {
namespace dist {

const char* ring_mode_name(RingMode m) { return m == RingMode::ring ? "ring" : "zigzag"; }

RingMode parse_ring_mode(const std::string& text) {
  if (text == "ring") return RingMode::ring;
  if (text == "zigzag") return RingMode::zigzag;
  throw std::invalid_argument("mode: expected ring or zigzag, got '" + text + "'");
}

int ring_source_rank(int rank, int step, int world) { return ((rank - step) % world + world) % world; }

StepPlan plan_ring_step(RingMode mode, bool causal, int rank, int step, int world) {
  StepPlan p;
  p.compute = true;
  if (!causal) return p;
  const int source = ring_source_rank(rank, step, world);
  if (source == rank) {
    p.causal = true;
    return p;
  }
  if (mode == RingMode::ring) {
    p.compute = source < rank;
    return p;
  }
  if (source < rank) {
    p.kv_part = ShardPart::first_half;
  } else {
    p.q_part = ShardPart::second_half;
  }
  return p;
}

}  // namespace dist
}  // namespace tile
