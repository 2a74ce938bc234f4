// The measured results of the cases and how they are printed: flash-attn's benchmark table
// (markdown) and JSON for machines (bench/compare_sdpa.py --ours reads it).
#pragma once

#include <string>
#include <vector>

#include "bench/bench_case.h"

namespace tile::bench {

struct CaseResult {
  BenchCase c;
  int warmup = 0, iters = 0;
  double median_ms = 0, min_ms = 0, max_ms = 0;
  // Forward+backward cases: the backward's share of each iteration (CUDA events around it),
  // median; 0 for forward-only cases.
  double bwd_median_ms = 0;
  double peak_memory_mb = 0;    // tracked through the backend (see --help), MB = 2^20 bytes
  double device_used_mb = -1;   // driver's view (total - free) minus the baseline; -1 unknown

  double throughput() const { return 1000.0 / median_ms; }  // iterations per second
  double tflops() const;
  // The backward alone, counted as 2.5x the forward's FLOPs (flops.h); 0 for forward-only cases.
  double bwd_tflops() const;
};

// The backward alone for the forward+backward results: "| batch_size | seq_len | nheads |
// head_size | causal | backward ms | backward TFLOPS |"; empty when every case is forward-only.
std::string format_backward_table(const std::vector<CaseResult>& results);

// The exact column header of flash-attn's benchmark table (and its separator line).
inline constexpr const char* kTableHeader =
    "| batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) | "
    "peak memory(MB/device) | speed(TFLOPS) |";

// One row: "| 2 | 4096 | 16 | 128 | True | 1702.13 | 0.588 | 67 | 233.9 |".
std::string format_table_row(const CaseResult& r);
// Header, separator and one row per result.
std::string format_markdown_table(const std::vector<CaseResult>& results);

// {"device": ..., "date": ..., "tflops_formula": ..., "cases": [{...}, ...]}.
// `not_measured` lists the cases that were refused ("bs 128 ...: reason").
std::string format_results_json(const std::vector<CaseResult>& results, const std::string& device,
                                 const std::string& date_utc, const std::vector<std::string>& not_measured = {});

}  // namespace tile::bench
