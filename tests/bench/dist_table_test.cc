// The distributed table: flash-attn's columns per rank plus ideal and ratio; the ring's TFLOPS
// count the rank's share of the work.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "bench/dist_table.h"

using namespace tile::bench;

namespace {

RankResult row(int rank, int world, bool ring, double ms, double ideal) {
  RankResult r;
  r.rank = rank;
  r.world_size = world;
  r.ring = ring;
  r.ideal_ms = ideal;
  r.result.c.batch_size = 1;
  r.result.c.seq_len = 4096;
  r.result.c.nheads = 16;
  r.result.c.nheads_k = 16;
  r.result.c.head_size = 128;
  r.result.c.causal = true;
  r.result.c.fwd_only = true;
  r.result.median_ms = ms;
  r.result.peak_memory_mb = 300;
  return r;
}

}  // namespace

TEST_CASE("a rank's row: the seed's columns, then ideal and ratio", "[bench][dist]") {
  const RankResult r = row(3, 8, true, 2.0, 0.5);
  // causal fwd: 4*1*4096^2*16*128*0.5 = 68.7 GFLOP; an eighth in 2 ms = 4.3 TFLOPS.
  CHECK(format_dist_row(r) == "| 3 | 1 | 4096 | 16 | 128 | True | 500.00 | 2.000 | 300 | 4.3 | 0.500 | 4.00 |");
  CHECK(r.ratio() == Approx(4.0));
}

TEST_CASE("without the ring a rank counts the whole case's FLOPs", "[bench][dist]") {
  const RankResult r = row(0, 2, false, 2.0, 2.0);
  CHECK(r.tflops() == Approx(8 * row(0, 8, true, 2.0, 2.0).tflops()));
  CHECK(format_dist_row(r).substr(0, 6) == "| 0 | ");
}

TEST_CASE("the table: title, header, separator, rows in order, the ideal's meaning", "[bench][dist]") {
  const std::string t = format_dist_table("zigzag", {row(0, 2, true, 2.0, 1.0), row(1, 2, true, 3.0, 1.0)});
  const std::string title =
      "mode zigzag, 2 ranks (nccl), seq_len 4096 = 2 x 2048 tokens per rank, causal, bf16, flash_attn_qkvpacked_func\n";
  CHECK(t.rfind(title, 0) == 0);
  const size_t h = t.find(kDistTableHeader);
  REQUIRE(h == title.size());
  // 12 columns in the header and in the separator.
  const std::string header = kDistTableHeader;
  CHECK(std::count(header.begin(), header.end(), '|') == 13);
  CHECK(t.find("|---|---|---|---|---|---|---|---|---|---|---|---|\n") != std::string::npos);
  const size_t r0 = t.find("| 0 | 1 | 4096"), r1 = t.find("| 1 | 1 | 4096");
  CHECK(r0 != std::string::npos);
  CHECK(r1 > r0);
  CHECK(t.find("ratio = latency / ideal.") != std::string::npos);
  CHECK(format_dist_table("ring", {}).empty());
}

TEST_CASE("the title without --mode", "[bench][dist]") {
  BenchCase c;
  c.seq_len = 4096;
  CHECK(format_dist_title("", 1, c) ==
        "mode none (each rank runs the whole case), 1 rank (nccl), seq_len 4096, not causal, bf16, "
        "flash_attn_qkvpacked_func");
}
