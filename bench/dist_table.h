// The distributed benchmark's table (--nproc_per_node): flash-attn's columns per rank, then the
// ideal time and the ratio, so the cost of communication and of sharing the node shows as one
// number. Pure formatting, tested without a GPU.
#pragma once

#include <string>
#include <vector>

#include "bench/results_table.h"

namespace tile::bench {

struct RankResult {
  int rank = 0;
  int world_size = 1;
  // c is the whole case (global seq_len); median_ms etc. are this rank's. With the ring, the
  // rank does 1/world_size of the case's FLOPs, and its TFLOPS column counts that share.
  CaseResult result;
  bool ring = false;
  double ideal_ms = 0;  // see kDistTableIdeal

  double tflops() const;
  double ratio() const { return ideal_ms > 0 ? result.median_ms / ideal_ms : 0.0; }
};

inline constexpr const char* kDistTableHeader =
    "| rank | batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) | "
    "peak memory(MB/device) | speed(TFLOPS) | ideal(ms/iter) | ratio |";

// What ideal means, printed under the table.
inline constexpr const char* kDistTableIdeal =
    "ideal: ring/zigzag = this rank's GPU alone on the whole case / world_size (its share of the work with "
    "free communication); without --mode = this rank's GPU timing the case while the other ranks wait. "
    "ratio = latency / ideal.";

// "mode zigzag, 8 ranks (nccl), seq_len 4096 = 8 x 512 tokens per rank, causal, bf16, flash_attn_qkvpacked_func";
// `transport` names how the ranks talk ("nccl", "virtual ranks on GPU 0, in-process").
std::string format_dist_title(const std::string& mode, int world_size, const BenchCase& c,
                              const std::string& transport = "nccl");

// "| 0 | 1 | 4096 | 16 | 128 | False | 12.34 | 81.037 | 300 | 12.3 | 40.100 | 2.02 |"
std::string format_dist_row(const RankResult& r);

// Title, header, separator, one row per rank (in rank order as given), the ideal note.
std::string format_dist_table(const std::string& mode, const std::vector<RankResult>& ranks,
                              const std::string& transport = "nccl");

}  // namespace tile::bench
