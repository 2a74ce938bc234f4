// The per-kernel timeline of one iteration as a Chrome-trace JSON (the "Trace Event Format"
// that chrome://tracing and Perfetto open), its file name, and a one-line summary per kernel.
// A distributed run's trace has one lane per (rank, stream): the rank is the trace's process,
// its streams ("compute", "comm") the process's threads, so communication overlapping compute
// shows as spans side by side.
#pragma once

#include <string>
#include <vector>

#include "bench/bench_case.h"

namespace tile::bench {

struct KernelSpan {
  std::string name;      // the API's kernel name, e.g. "attn_fwd"
  std::string instance;  // the compiled specialisation, e.g. "attn_fwd__block_m128_..."
  double start_us = 0;   // from the start of the iteration
  double duration_us = 0;
  int grid[3] = {1, 1, 1};
  // Where it ran, for traces of several ranks and streams.
  int rank = 0;
  std::string stream = "stream";  // the lane within the rank: "stream" (one GPU), "compute", "comm"
  bool comm = false;              // communication (a copy between ranks, NCCL) rather than a kernel
  int step = -1;                  // the ring step it belongs to; -1: none
};

// {"traceEvents": [...], "displayTimeUnit": "ms"}: process/thread names as metadata events,
// then one complete ("ph": "X") event per span with microsecond ts/dur. pid is the span's rank
// and tid its stream's lane within the rank (in order of first appearance); each process is
// named `process_name` (plus " rank R" when the trace holds several ranks), each thread its
// stream. Kernels ("cat": "kernel") carry their instance and grid as args, communication
// ("cat": "comm") its detail; both their step when they have one.
std::string chrome_trace_json(const std::vector<KernelSpan>& spans, const std::string& process_name);

// Named like the seed's traces:
// "flash_attn_qkvpacked_func_causal_bf16_bs_2_seq_4096_heads_16_d_128_rank_0_fwd_only_True.json".
std::string trace_file_name(const BenchCase& c, int rank = 0);

// "attn_fwd 1.165 ms", one line per kernel name in first-launch order (durations of repeated
// launches are summed; "(N launches)" is appended then).
std::vector<std::string> kernel_summary_lines(const std::vector<KernelSpan>& spans);

}  // namespace tile::bench
