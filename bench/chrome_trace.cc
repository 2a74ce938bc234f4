#include "bench/chrome_trace.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "bench/json_text.h"

namespace tile::bench {

namespace {

// The trace's lanes: ranks in order of first appearance, each with its streams likewise.
struct Lanes {
  std::vector<int> ranks;
  std::map<int, std::vector<std::string>> streams;  // by rank

  int tid(int rank, const std::string& stream) const {
    const std::vector<std::string>& s = streams.at(rank);
    return static_cast<int>(std::find(s.begin(), s.end(), stream) - s.begin());
  }
};

Lanes lanes_of(const std::vector<KernelSpan>& spans) {
  Lanes l;
  if (spans.empty()) {  // still one named lane, as a one-GPU trace has
    l.ranks.push_back(0);
    l.streams[0].push_back("stream");
  }
  for (const KernelSpan& k : spans) {
    if (!l.streams.count(k.rank)) l.ranks.push_back(k.rank);
    std::vector<std::string>& s = l.streams[k.rank];
    if (std::find(s.begin(), s.end(), k.stream) == s.end()) s.push_back(k.stream);
  }
  return l;
}

std::string metadata(const char* what, int pid, int tid, const std::string& name) {
  return std::string("    {\"name\": \"") + what + "\", \"ph\": \"M\", \"pid\": " + std::to_string(pid) +
         ", \"tid\": " + std::to_string(tid) + ", \"args\": {\"name\": " + json_string(name) + "}}";
}

}  // namespace

std::string chrome_trace_json(const std::vector<KernelSpan>& spans, const std::string& process_name) {
  const Lanes lanes = lanes_of(spans);
  std::vector<std::string> events;
  for (int rank : lanes.ranks) {
    events.push_back(metadata("process_name", rank, 0,
                              lanes.ranks.size() > 1 ? process_name + " rank " + std::to_string(rank) : process_name));
    const std::vector<std::string>& streams = lanes.streams.at(rank);
    for (size_t t = 0; t < streams.size(); ++t) events.push_back(metadata("thread_name", rank, int(t), streams[t]));
  }
  for (const KernelSpan& k : spans) {
    std::string args;
    if (k.comm) {
      args = "\"detail\": " + json_string(k.instance);
    } else {
      args = "\"instance\": " + json_string(k.instance) + ", \"grid\": [" + std::to_string(k.grid[0]) + ", " +
             std::to_string(k.grid[1]) + ", " + std::to_string(k.grid[2]) + "]";
    }
    if (k.step >= 0) args += ", \"step\": " + std::to_string(k.step);
    events.push_back("    {\"name\": " + json_string(k.name) + ", \"cat\": \"" + (k.comm ? "comm" : "kernel") +
                     "\", \"ph\": \"X\", \"pid\": " + std::to_string(k.rank) +
                     ", \"tid\": " + std::to_string(lanes.tid(k.rank, k.stream)) + ", \"ts\": " +
                     json_number(k.start_us) + ", \"dur\": " + json_number(k.duration_us) + ", \"args\": {" + args + "}}");
  }
  std::string s = "{\n  \"traceEvents\": [\n";
  for (size_t i = 0; i < events.size(); ++i) s += events[i] + (i + 1 < events.size() ? ",\n" : "\n");
  s += "  ],\n  \"displayTimeUnit\": \"ms\"\n}\n";
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
