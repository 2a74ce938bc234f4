#include "bench/dist_table.h"

#include <cstdio>

#include "bench/flops.h"

namespace tile::bench {

double RankResult::tflops() const {
  const double share = ring ? result.c.flops() / world_size : result.c.flops();
  return bench::tflops(share, result.median_ms);
}

std::string format_dist_title(const std::string& mode, int world_size, const BenchCase& c,
                              const std::string& transport) {
  std::string s = "mode " + (mode.empty() ? std::string("none (each rank runs the whole case)") : mode) + ", " +
                  std::to_string(world_size) + (world_size == 1 ? " rank" : " ranks") + " (" + transport + "), seq_len " +
                  std::to_string(c.seq_len);
  if (!mode.empty())
    s += " = " + std::to_string(world_size) + " x " + std::to_string(c.seq_len / world_size) + " tokens per rank";
  s += c.causal ? ", causal" : ", not causal";
  s += std::string(", ") + elem_type_name(c.dtype) + ", " + func_name(c.func);
  return s;
}

std::string format_dist_row(const RankResult& r) {
  const CaseResult& x = r.result;
  char buf[320];
  std::snprintf(buf, sizeof buf, "| %d | %d | %d | %d | %d | %s | %.2f | %.3f | %.0f | %.1f | %.3f | %.2f |", r.rank,
                x.c.batch_size, x.c.seq_len, x.c.nheads, x.c.head_size, x.c.fwd_only ? "True" : "False",
                x.throughput(), x.median_ms, x.peak_memory_mb, r.tflops(), r.ideal_ms, r.ratio());
  return buf;
}

std::string format_dist_table(const std::string& mode, const std::vector<RankResult>& ranks,
                              const std::string& transport) {
  if (ranks.empty()) return "";
  std::string s = format_dist_title(mode, ranks.front().world_size, ranks.front().result.c, transport) + "\n";
  s += std::string(kDistTableHeader) + "\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const RankResult& r : ranks) s += format_dist_row(r) + "\n";
  s += std::string(kDistTableIdeal) + "\n";
  return s;
}

}  // namespace tile::bench
