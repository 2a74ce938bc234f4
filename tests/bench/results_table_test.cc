// flash-attn's benchmark table and the JSON of results.
#include <catch2/catch.hpp>

#include "bench/results_table.h"
#include "tests/bench/mini_json.h"

using namespace tile::bench;

namespace {
CaseResult sample(bool fwd_only, double ms) {
  CaseResult r;
  r.c.causal = true;
  r.c.fwd_only = fwd_only;
  r.median_ms = ms;
  r.min_ms = ms * 0.99;
  r.max_ms = ms * 1.02;
  r.peak_memory_mb = 67.4;
  r.warmup = 5;
  r.iters = 30;
  return r;
}
}  // namespace

TEST_CASE("the table has the seed's columns exactly", "[bench][table]") {
  std::string t = format_markdown_table({sample(true, 0.587), sample(false, 2.0)});
  const std::string header =
      "| batch_size | seq_len | nheads | head_size | fwd_only | throughput(iters/s) | latency(ms/iter) | "
      "peak memory(MB/device) | speed(TFLOPS) |";
  CHECK(t.rfind(header + "\n|---|---|---|---|---|---|---|---|---|\n", 0) == 0);
  CHECK(t.find("| 2 | 4096 | 16 | 128 | True | 1703.58 | 0.587 | 67 | 234.1 |\n") != std::string::npos);
  // fwd+bwd: 3.5 x the causal forward's 137.4 GFLOP in 2 ms.
  CHECK(t.find("| 2 | 4096 | 16 | 128 | False | 500.00 | 2.000 | 67 | 240.5 |\n") != std::string::npos);
  // Every line has the nine columns.
  size_t lines = 0;
  for (size_t p = 0; (p = t.find('\n', p)) != std::string::npos; ++p) ++lines;
  CHECK(lines == 4);
}

TEST_CASE("results JSON is valid and carries every case", "[bench][table]") {
  CaseResult r = sample(true, 0.5);
  r.device_used_mb = 70;
  using tile::testing::Json;
  Json j = tile::testing::parse_json(format_results_json({r, sample(false, 1.0)}, "NVIDIA H100 \"80GB\"", "2026-11-25T10:00:00Z"));
  CHECK(j["device"].str == "NVIDIA H100 \"80GB\"");
  CHECK(j["tflops_formula"].str.find("4*B*S^2*H*D") != std::string::npos);
  REQUIRE(j["cases"].items.size() == 2);
  const Json& c = j["cases"].items[0];
  CHECK(c["func"].str == "flash_attn_qkvpacked_func");
  CHECK(c["dtype"].str == "bf16");
  CHECK(c["batch_size"].num == 2);
  CHECK(c["seq_len"].num == 4096);
  CHECK(c["causal"].b);
  CHECK(c["fwd_only"].b);
  CHECK(c["median_ms"].num == Approx(0.5));
  CHECK(c["tflops"].num == Approx(274.9).epsilon(1e-3));
  CHECK(c["device_used_mb"].num == 70);
  CHECK(j["cases"].items[1]["device_used_mb"].kind == Json::Kind::null);
  CHECK_FALSE(j["cases"].items[1]["fwd_only"].b);
  CHECK(j["not_measured"].items.empty());
  Json k = tile::testing::parse_json(format_results_json({}, "gpu", "now", {"bs 128 seq 4096: q: \"extent\" too large"}));
  CHECK(k["cases"].items.empty());
  REQUIRE(k["not_measured"].items.size() == 1);
  CHECK(k["not_measured"].items[0].str == "bs 128 seq 4096: q: \"extent\" too large");
}

TEST_CASE("the backward alone: its table and JSON fields, 2.5x the forward's FLOPs", "[bench][table]") {
  CaseResult fwd = sample(true, 0.5), both = sample(false, 2.0);
  both.bwd_median_ms = 1.25;
  // 2.5 x the causal forward's 137.4 GFLOP in 1.25 ms.
  CHECK(both.bwd_tflops() == Approx(274.9).epsilon(1e-3));
  CHECK(fwd.bwd_tflops() == 0);
  CHECK(format_backward_table({fwd}).empty());
  std::string t = format_backward_table({fwd, both});
  CHECK(t == "| batch_size | seq_len | nheads | head_size | causal | backward ms | backward TFLOPS |\n"
             "|---|---|---|---|---|---|---|\n"
             "| 2 | 4096 | 16 | 128 | True | 1.250 | 274.9 |\n");
  using tile::testing::Json;
  Json j = tile::testing::parse_json(format_results_json({fwd, both}, "gpu", "now"));
  CHECK(j["cases"].items[0]["bwd_median_ms"].kind == Json::Kind::null);
  CHECK(j["cases"].items[1]["bwd_median_ms"].num == Approx(1.25));
  CHECK(j["cases"].items[1]["bwd_tflops"].num == Approx(274.9).epsilon(1e-3));
}
