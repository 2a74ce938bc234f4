#include "distributed/ring_schedule.h"

#include <stdexcept>

namespace tile {
namespace dist {

const char* ring_mode_name(RingMode m) {
  switch (m) {
    case RingMode::ring:
      return "ring";
    case RingMode::zigzag:
      return "zigzag";
    case RingMode::stripe:
      return "stripe";
  }
  return "?";
}

RingMode parse_ring_mode(const std::string& text) {
  if (text == "ring") return RingMode::ring;
  if (text == "zigzag") return RingMode::zigzag;
  if (text == "stripe") return RingMode::stripe;
  throw std::invalid_argument("mode: expected ring, zigzag or stripe, got '" + text + "'");
}

int ring_source_rank(int rank, int step, int world) { return ((rank - step) % world + world) % world; }

StepPlan plan_ring_step(RingMode mode, bool causal, int rank, int step, int world) {
  StepPlan p;
  p.compute = true;
  if (!causal) return p;
  const int source = ring_source_rank(rank, step, world);
  if (mode == RingMode::stripe) {
    p.causal = true;
    if (source > rank) {
      p.q_part = ShardPart::all_but_first;
      p.kv_part = ShardPart::all_but_last;
    }
    return p;
  }
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
