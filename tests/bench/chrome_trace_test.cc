// --profile's Chrome-trace JSON: valid JSON, the Trace Event Format Perfetto opens, every
// kernel named, one lane per rank and stream; the file name follows the seed's; one summary line
// per kernel.
#include <catch2/catch.hpp>

#include <map>

#include "bench/chrome_trace.h"
#include "tests/bench/mini_json.h"
#include "tests/bench/span_testing.h"

using namespace tile::bench;
using tile::testing::Json;

namespace {
std::vector<KernelSpan> backward_like() {
  KernelSpan fwd{"attn_fwd", "attn_fwd__block_m128", 3.0, 1165.0, {32, 32, 1}};
  KernelSpan pre{"attn_bwd_preprocess", "attn_bwd_preprocess__x", 1170.0, 21.0, {32, 32, 1}};
  KernelSpan dkdv{"attn_bwd_dkdv", "attn_bwd_dkdv__\"q\"", 1195.0, 3000.25, {64, 32, 1}};
  KernelSpan fwd2 = fwd;
  fwd2.start_us = 4200;
  return {fwd, pre, dkdv, fwd2};
}
}  // namespace

TEST_CASE("trace JSON is valid Trace Event Format with every kernel named", "[bench][trace]") {
  std::vector<KernelSpan> spans = backward_like();
  Json j = tile::testing::parse_json(chrome_trace_json(spans, "flash_attn bs 2 \"seq\" 4096"));
  REQUIRE(j.kind == Json::Kind::object);
  CHECK(j["displayTimeUnit"].str == "ms");
  const Json& events = j["traceEvents"];
  REQUIRE(events.kind == Json::Kind::array);
  size_t complete = 0;
  for (const Json& e : events.items) {
    REQUIRE(e.has("name"));
    REQUIRE(e.has("ph"));
    CHECK(e["pid"].kind == Json::Kind::number);
    CHECK(e["tid"].kind == Json::Kind::number);
    if (e["ph"].str == "M") {
      CHECK(e["args"]["name"].kind == Json::Kind::string);
      continue;
    }
    REQUIRE(e["ph"].str == "X");
    const KernelSpan& k = spans[complete++];
    CHECK(e["name"].str == k.name);
    CHECK_FALSE(e["name"].str.empty());
    CHECK(e["ts"].num == Approx(k.start_us));
    CHECK(e["dur"].num == Approx(k.duration_us));
    CHECK(e["args"]["instance"].str == k.instance);
    REQUIRE(e["args"]["grid"].items.size() == 3);
    CHECK(e["args"]["grid"].items[0].num == k.grid[0]);
  }
  CHECK(complete == spans.size());
}

TEST_CASE("an empty timeline is still a valid trace", "[bench][trace]") {
  Json j = tile::testing::parse_json(chrome_trace_json({}, "x"));
  CHECK(j["traceEvents"].items.size() == 2);  // the two metadata events
}

TEST_CASE("trace files are named after the case like the seed's", "[bench][trace]") {
  BenchCase c;
  c.fwd_only = true;
  c.causal = true;
  CHECK(trace_file_name(c) == "flash_attn_qkvpacked_func_causal_bf16_bs_2_seq_4096_heads_16_d_128_rank_0_fwd_only_True.json");
  c.fwd_only = false;
  c.causal = false;
  c.func = AttnFunc::func;
  c.dtype = ElemType::fp16;
  CHECK(trace_file_name(c, 3) == "flash_attn_func_fp16_bs_2_seq_4096_heads_16_d_128_rank_3_fwd_only_False.json");
}

TEST_CASE("one summary line per kernel, in launch order", "[bench][trace]") {
  std::vector<std::string> lines = kernel_summary_lines(backward_like());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "attn_fwd 2.330 ms (2 launches)");
  CHECK(lines[1] == "attn_bwd_preprocess 0.021 ms");
  CHECK(lines[2] == "attn_bwd_dkdv 3.000 ms");
  CHECK(kernel_summary_lines({{"attn_fwd", "", 0, 1165.0, {1, 1, 1}}}) == std::vector<std::string>{"attn_fwd 1.165 ms"});
}

using testing::rank_span;

TEST_CASE("a distributed trace has one lane per rank and stream", "[bench][trace]") {
  const std::vector<KernelSpan> spans = {
      rank_span("attn_fwd", 0, false, 0, 0, 100), rank_span("p2p copy", 1, true, 1, 5, 20),
      rank_span("attn_fwd", 1, false, 0, 1, 90), rank_span("p2p copy", 0, true, 1, 4, 20)};
  Json j = tile::testing::parse_json(chrome_trace_json(spans, "ring W=2"));
  std::map<std::pair<int, int>, std::string> threads;  // (pid, tid) -> name
  std::map<int, std::string> processes;
  std::vector<const Json*> complete;
  for (const Json& e : j["traceEvents"].items) {
    const int pid = int(e["pid"].num), tid = int(e["tid"].num);
    if (e["ph"].str == "M" && e["name"].str == "process_name") processes[pid] = e["args"]["name"].str;
    if (e["ph"].str == "M" && e["name"].str == "thread_name") threads[{pid, tid}] = e["args"]["name"].str;
    if (e["ph"].str == "X") complete.push_back(&e);
  }
  CHECK(processes == std::map<int, std::string>{{0, "ring W=2 rank 0"}, {1, "ring W=2 rank 1"}});
  // Streams numbered per rank in order of first appearance.
  CHECK(threads == std::map<std::pair<int, int>, std::string>{
                       {{0, 0}, "compute"}, {{0, 1}, "comm"}, {{1, 0}, "comm"}, {{1, 1}, "compute"}});
  REQUIRE(complete.size() == spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    const Json& e = *complete[i];
    INFO("span " << i);
    CHECK(int(e["pid"].num) == spans[i].rank);
    CHECK(threads[{spans[i].rank, int(e["tid"].num)}] == spans[i].stream);
    CHECK(e["cat"].str == (spans[i].comm ? "comm" : "kernel"));
    CHECK(int(e["args"]["step"].num) == spans[i].step);
    CHECK(e["args"].has(spans[i].comm ? "detail" : "instance"));
  }
}
