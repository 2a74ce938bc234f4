// Times the block-shape tuning cases (bench/tune/README.md) in one process: H=16, D=128, bf16,
// B in {2, 16}, S=4096, causal and not, forward and forward+backward. One process keeps each
// candidate's run short (kernels load once); the timing itself is bench/case_runner's (CUDA
// events, L2 flushed before each iteration, median, fresh random inputs, unwritten outputs fail).
//
// Usage: tune [JSON_OUT]. Prints one line per case; writes the cases in //bench:flash_attn's JSON
// field names, so bench/compare_sdpa.py --ours and summarize.py read them.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "bench/case_runner.h"

namespace {

std::vector<tile::bench::BenchCase> tuning_cases() {
  std::vector<tile::bench::BenchCase> cases;
  for (int batch : {2, 16})
    for (bool causal : {true, false})
      for (bool fwd_only : {true, false}) {
        tile::bench::BenchCase c;
        c.batch_size = batch;
        c.seq_len = 4096;
        c.causal = causal;
        c.fwd_only = fwd_only;
        cases.push_back(c);
      }
  return cases;
}

std::string json_case(const tile::bench::CaseResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"batch_size\": %d, \"seq_len\": %d, \"nheads\": %d, \"head_size\": %d, "
                "\"causal\": %s, \"fwd_only\": %s, \"dtype\": \"bf16\", \"median_ms\": %.4f, "
                "\"min_ms\": %.4f, \"max_ms\": %.4f}",
                r.c.batch_size, r.c.seq_len, r.c.nheads, r.c.head_size, r.c.causal ? "true" : "false",
                r.c.fwd_only ? "true" : "false", r.median_ms, r.min_ms, r.max_ms);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    tile::attention::GpuBackend gpu;
    tile::bench::RunOptions options;
    options.warmup = 3;
    options.iters = 15;
    std::string json = "{\"cases\": [";
    bool first = true;
    for (const tile::bench::BenchCase& c : tuning_cases()) {
      try {
        const tile::bench::CaseResult r = tile::bench::run_case(gpu, c, options).result;
        std::printf("%s: %.3f ms (min %.3f max %.3f)\n", c.describe().c_str(), r.median_ms, r.min_ms,
                    r.max_ms);
        json += (first ? "" : ", ") + json_case(r);
        first = false;
      } catch (const std::exception& e) {
        std::printf("%s: failed: %s\n", c.describe().c_str(), e.what());
      }
      std::fflush(stdout);
    }
    json += "]}\n";
    if (argc > 1) {
      FILE* f = std::fopen(argv[1], "w");
      if (!f) return 1;
      std::fputs(json.c_str(), f);
      std::fclose(f);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tune: %s\n", e.what());
    return 1;
  }
  return 0;
}
