#include "bench/chrome_trace.h"

#include <cstdio>

#include "bench/json_text.h"

namespace tile::bench {

std::string chrome_trace_json(const std::vector<KernelSpan>& spans, const std::string& process_name) {
  std::string s = "{\n  \"traceEvents\": [\n";
  s += "    {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": 0, \"args\": {\"name\": " +
       json_string(process_name) + "}},\n";
  s += "    {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": 0, \"args\": {\"name\": \"stream\"}}";
  for (const KernelSpan& k : spans) {
    s += ",\n    {\"name\": " + json_string(k.name) + ", \"cat\": \"kernel\", \"ph\": \"X\", \"pid\": 0, \"tid\": 0, " +
         "\"ts\": " + json_number(k.start_us) + ", \"dur\": " + json_number(k.duration_us) +
         ", \"args\": {\"instance\": " + json_string(k.instance) + ", \"grid\": [" + std::to_string(k.grid[0]) + ", " +
         std::to_string(k.grid[1]) + ", " + std::to_string(k.grid[2]) + "]}}";
  }
  s += "\n  ],\n  \"displayTimeUnit\": \"ms\"\n}\n";
  return s;
}

std::string trace_file_name(const BenchCase& c, int rank) {
  return std::string(func_name(c.func)) + (c.causal ? "_causal_" : "_") + elem_type_name(c.dtype) + "_bs_" +
         std::to_string(c.batch_size) + "_seq_" + std::to_string(c.seq_len) + "_heads_" + std::to_string(c.nheads) +
         "_d_" + std::to_string(c.head_size) + "_rank_" + std::to_string(rank) + "_fwd_only_" +
         (c.fwd_only ? "True" : "False") + ".json";
}

std::vector<std::string> kernel_summary_lines(const std::vector<KernelSpan>& spans) {
  struct Total {
    std::string name;
    double us = 0;
    int launches = 0;
  };
  std::vector<Total> totals;
  for (const KernelSpan& k : spans) {
    Total* t = nullptr;
    for (Total& x : totals)
      if (x.name == k.name) t = &x;
    if (!t) {
      totals.push_back({k.name});
      t = &totals.back();
    }
    t->us += k.duration_us;
    ++t->launches;
  }
  std::vector<std::string> lines;
  for (const Total& t : totals) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s %.3f ms", t.name.c_str(), t.us / 1000.0);
    std::string line = buf;
    if (t.launches > 1) line += " (" + std::to_string(t.launches) + " launches)";
    lines.push_back(line);
  }
  return lines;
}

}  // namespace tile::bench
