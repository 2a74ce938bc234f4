#include "bench/results_table.h"

#include <cstdio>

#include "bench/flops.h"
#include "bench/json_text.h"

namespace tile::bench {

double CaseResult::tflops() const { return bench::tflops(c.flops(), median_ms); }

double CaseResult::bwd_tflops() const {
  if (c.fwd_only || bwd_median_ms <= 0) return 0;
  return bench::tflops(c.flops() / 3.5 * 2.5, bwd_median_ms);
}

std::string format_backward_table(const std::vector<CaseResult>& results) {
  std::string s;
  for (const CaseResult& r : results) {
    if (r.c.fwd_only || r.bwd_median_ms <= 0) continue;
    char buf[160];
    std::snprintf(buf, sizeof buf, "| %d | %d | %d | %d | %s | %.3f | %.1f |\n", r.c.batch_size, r.c.seq_len, r.c.nheads,
                  r.c.head_size, r.c.causal ? "True" : "False", r.bwd_median_ms, r.bwd_tflops());
    s += buf;
  }
  if (s.empty()) return s;
  return "| batch_size | seq_len | nheads | head_size | causal | backward ms | backward TFLOPS |\n"
         "|---|---|---|---|---|---|---|\n" + s;
}

std::string format_table_row(const CaseResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "| %d | %d | %d | %d | %s | %.2f | %.3f | %.0f | %.1f |", r.c.batch_size, r.c.seq_len,
                r.c.nheads, r.c.head_size, r.c.fwd_only ? "True" : "False", r.throughput(), r.median_ms,
                r.peak_memory_mb, r.tflops());
  return buf;
}

std::string format_markdown_table(const std::vector<CaseResult>& results) {
  std::string s = std::string(kTableHeader) + "\n|---|---|---|---|---|---|---|---|---|\n";
  for (const CaseResult& r : results) s += format_table_row(r) + "\n";
  return s;
}

std::string format_results_json(const std::vector<CaseResult>& results, const std::string& device,
                                const std::string& date_utc, const std::vector<std::string>& not_measured) {
  std::string s = "{\n  \"device\": " + json_string(device) + ",\n  \"date\": " + json_string(date_utc) +
                  ",\n  \"tflops_formula\": " + json_string(kFlopsFormula) + ",\n  \"cases\": [";
  for (size_t i = 0; i < results.size(); ++i) {
    const CaseResult& r = results[i];
    const BenchCase& c = r.c;
    s += i ? ",\n    {" : "\n    {";
    s += "\"func\": " + json_string(func_name(c.func)) + ", \"dtype\": " + json_string(elem_type_name(c.dtype)) +
         ", \"batch_size\": " + std::to_string(c.batch_size) + ", \"seq_len\": " + std::to_string(c.seq_len) +
         ", \"nheads\": " + std::to_string(c.nheads) + ", \"nheads_k\": " + std::to_string(c.nheads_k) +
         ", \"head_size\": " + std::to_string(c.head_size) + ", \"head_size_v\": " + std::to_string(c.dv()) + ", \"causal\": " + (c.causal ? "true" : "false") +
         ", \"fwd_only\": " + (c.fwd_only ? "true" : "false") +
         (c.deterministic ? std::string(", \"deterministic\": true") : std::string()) +
         (c.variant.empty() ? std::string() : ", \"variant\": " + json_string(c.variant) + ", \"block_mask\": " + (c.block_mask ? "true" : "false")) +
         ", \"warmup\": " + std::to_string(r.warmup) +
         ", \"iters\": " + std::to_string(r.iters) + ", \"median_ms\": " + json_number(r.median_ms) +
         ", \"min_ms\": " + json_number(r.min_ms) + ", \"max_ms\": " + json_number(r.max_ms) +
         ", \"throughput\": " + json_number(r.throughput()) + ", \"tflops\": " + json_number(r.tflops()) +
         ", \"peak_memory_mb\": " + json_number(r.peak_memory_mb) +
         ", \"bwd_median_ms\": " + (c.fwd_only ? std::string("null") : json_number(r.bwd_median_ms)) +
         ", \"bwd_tflops\": " + (c.fwd_only ? std::string("null") : json_number(r.bwd_tflops())) +
         ", \"device_used_mb\": " + (r.device_used_mb < 0 ? std::string("null") : json_number(r.device_used_mb)) + "}";
  }
  s += "\n  ],\n  \"not_measured\": [";
  for (size_t i = 0; i < not_measured.size(); ++i) s += (i ? ", " : "") + json_string(not_measured[i]);
  s += "]\n}\n";
  return s;
}

}  // namespace tile::bench
