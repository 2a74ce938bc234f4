// The per-kernel timeline of one iteration as a Chrome-trace JSON (the "Trace Event Format"
// that chrome://tracing and Perfetto open), its file name, and a one-line summary per kernel.
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
};

// {"traceEvents": [...], "displayTimeUnit": "ms"}: process/thread names as metadata events,
// then one complete ("ph": "X") event per span with microsecond ts/dur and its grid as args.
std::string chrome_trace_json(const std::vector<KernelSpan>& spans, const std::string& process_name);

// Named like the seed's traces:
// "flash_attn_qkvpacked_func_causal_bf16_bs_2_seq_4096_heads_16_d_128_rank_0_fwd_only_True.json".
std::string trace_file_name(const BenchCase& c, int rank = 0);

// "attn_fwd 1.165 ms", one line per kernel name in first-launch order (durations of repeated
// launches are summed; "(N launches)" is appended then).
std::vector<std::string> kernel_summary_lines(const std::vector<KernelSpan>& spans);

}  // namespace tile::bench
