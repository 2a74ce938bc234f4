// On the GPU (tagged "gpu"): virtual ranks on one GPU, each on its own streams, K/V moved by
// copies on each rank's copy stream ordered by events. The profiled iteration's trace must show,
// for every rank, the next step's copy running while that rank computes the current step
// (bench/trace_overlap.h), with one lane per rank and stream. The trace is written to
// $TEST_UNDECLARED_OUTPUTS_DIR (or the working directory) for Perfetto.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "bench/bench_flags.h"
#include "bench/chrome_trace.h"
#include "bench/dist_bench.h"
#include "bench/trace_overlap.h"

using namespace tile::bench;

namespace {

BenchFlags ring_flags(const std::string& mode, int ranks, bool causal, bool fwd_only) {
  BenchFlags f;
  f.virtual_ranks = ranks;
  f.mode = mode;
  f.causal = causal;
  f.fwd_only = fwd_only;
  f.batch_size = 1;
  f.seq_len = 4096 * ranks;  // 4096 tokens per rank: each step's attention outlasts its copy
  f.nheads = f.nheads_k = 8;
  f.head_size = f.head_size_v = 128;
  f.warmup = 1;
  f.iters = 2;
  f.profile = true;
  f.ulysses_degree = 1;
  return f;
}

void save_trace(const std::vector<KernelSpan>& spans, const std::string& name) {
  const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string path = std::string(dir ? dir : ".") + "/" + name;
  std::ofstream(path) << chrome_trace_json(spans, name);
  WARN("trace: " << path);
}

void check_overlap(const BenchFlags& flags) {
  const VirtualRun run = time_virtual_ranks(flags);
  REQUIRE(run.rows.size() == size_t(flags.virtual_ranks));
  save_trace(run.spans, flags.mode + "_virtual_ranks_" + std::to_string(flags.virtual_ranks) + ".json");
  for (const std::string& line : overlap_summary_lines(run.spans)) WARN(line);
  // Which way a rank without overlap is off: its next blocks moved after the step (late) or
  // before it (early).
  for (const std::string& line : miss_summary_lines(run.spans)) WARN("missed: " << line);

  // One lane per rank and stream: compute (kernels) and comm (the copies, and nothing else).
  std::map<int, std::set<std::string>> lanes;
  size_t copies = 0;
  for (const KernelSpan& k : run.spans) {
    lanes[k.rank].insert(k.stream);
    CHECK(k.comm == (k.stream == "comm"));
    if (k.comm) {
      ++copies;
      CHECK(k.name == "p2p copy");
      CHECK(k.step >= 1);  // a block for a later step
    }
  }
  for (int r = 0; r < flags.virtual_ranks; ++r) {
    INFO("rank " << r);
    CHECK(lanes[r] == std::set<std::string>{"compute", "comm"});
  }
  CHECK(copies > 0);
  // Every rank overlaps: some copy of step i + 1 runs during its compute of step i.
  CHECK(ranks_without_overlap(run.spans).empty());
  CHECK(step_overlaps(run.spans).size() >= size_t(flags.virtual_ranks));
}

}  // namespace

TEST_CASE("ring, 4 virtual ranks: the next block's copy overlaps the current step", "[gpu][overlap]") {
  check_overlap(ring_flags("ring", 4, false, false));
}

TEST_CASE("zigzag causal forward, 4 virtual ranks: the next block's copy overlaps the current step",
          "[gpu][overlap]") {
  check_overlap(ring_flags("zigzag", 4, true, true));
}
