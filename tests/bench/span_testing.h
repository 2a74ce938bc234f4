// A span of a distributed trace for the trace tests: on rank `rank`'s "comm" lane when `comm`
// (a transfer, its detail as instance), else on its "compute" lane (a kernel instance).
#pragma once

#include "bench/chrome_trace.h"

namespace tile::bench::testing {

inline KernelSpan rank_span(const char* name, int rank, bool comm, int step, double start_us, double duration_us) {
  KernelSpan k;
  k.name = name;
  k.instance = comm ? "4096 bytes, rank 0 -> 1" : "attn_fwd__x";
  k.rank = rank;
  k.stream = comm ? "comm" : "compute";
  k.comm = comm;
  k.step = step;
  k.start_us = start_us;
  k.duration_us = duration_us;
  return k;
}

}  // namespace tile::bench::testing
