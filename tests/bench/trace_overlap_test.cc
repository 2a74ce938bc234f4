// The overlap check of distributed traces (bench/trace_overlap.h): a rank overlaps when a
// communication span of step i + 1 runs while it computes step i; other pairs do not count.
#include <catch2/catch.hpp>

#include "bench/trace_overlap.h"
#include "tests/bench/span_testing.h"

using namespace tile::bench;

namespace {
constexpr auto span = testing::rank_span;
}  // namespace

TEST_CASE("the next step's transfer during this step's compute is an overlap", "[bench][trace]") {
  // Rank 0 overlaps (copy for step 1 inside attention of step 0); rank 1 copies only after.
  const std::vector<KernelSpan> spans = {
      span("attn_fwd", 0, false, 0, 0, 100),  span("p2p copy", 0, true, 1, 10, 30),
      span("attn_fwd", 0, false, 1, 100, 100), span("attn_fwd", 1, false, 0, 0, 100),
      span("p2p copy", 1, true, 1, 100, 30),   span("attn_fwd", 1, false, 1, 130, 100)};
  const std::vector<StepOverlap> o = step_overlaps(spans);
  REQUIRE(o.size() == 1);
  CHECK(o[0].rank == 0);
  CHECK(o[0].step == 0);
  CHECK(o[0].compute == "attn_fwd");
  CHECK(o[0].comm == "p2p copy");
  CHECK(o[0].overlap_us == Approx(30));
  CHECK(ranks_without_overlap(spans) == std::vector<int>{1});
  CHECK(overlap_summary_lines(spans) ==
        std::vector<std::string>{"rank 0: 1 overlapping pair, steps 0, 30.0 us",
                                 "rank 1: no communication overlapped compute"});
}

TEST_CASE("only the same rank's step i compute and step i + 1 transfer count", "[bench][trace]") {
  const KernelSpan compute = span("attn_fwd", 0, false, 2, 0, 100);
  SECTION("a transfer of the same step (what the compute waited for) is no overlap") {
    CHECK(step_overlaps({compute, span("p2p copy", 0, true, 2, 10, 30)}).empty());
  }
  SECTION("another rank's transfer is no overlap") {
    CHECK(step_overlaps({compute, span("p2p copy", 1, true, 3, 10, 30)}).empty());
  }
  SECTION("touching ends are no overlap; a minimum length filters short ones") {
    CHECK(step_overlaps({compute, span("p2p copy", 0, true, 3, 100, 30)}).empty());
    CHECK(step_overlaps({compute, span("p2p copy", 0, true, 3, 95, 30)}, 10.0).empty());
    CHECK(step_overlaps({compute, span("p2p copy", 0, true, 3, 95, 30)}, 1.0).size() == 1);
  }
  SECTION("compute to compute is no overlap; spans without steps are ignored") {
    CHECK(step_overlaps({compute, span("attn_fwd", 0, false, 3, 10, 30)}).empty());
    CHECK(step_overlaps({compute, span("p2p copy", 0, true, -1, 10, 30)}).empty());
    CHECK(ranks_without_overlap({compute, span("p2p copy", 0, true, -1, 10, 30)}).empty());  // not judged
  }
}

TEST_CASE("every pair is reported, by rank and step; ranks with one kind of span are not judged",
          "[bench][trace]") {
  const std::vector<KernelSpan> spans = {
      span("attn_fwd", 1, false, 1, 200, 100), span("p2p copy", 1, true, 2, 210, 10),
      span("p2p copy", 1, true, 2, 220, 10),   span("attn_fwd", 1, false, 0, 0, 100),
      span("p2p copy", 1, true, 1, 50, 10),    span("attn_fwd", 2, false, 0, 0, 100)};
  const std::vector<StepOverlap> o = step_overlaps(spans);
  REQUIRE(o.size() == 3);
  CHECK(o[0].step == 0);
  CHECK(o[1].step == 1);
  CHECK(o[2].step == 1);
  CHECK(ranks_without_overlap(spans).empty());  // rank 2 has no transfer: not judged
  CHECK(overlap_summary_lines(spans) == std::vector<std::string>{"rank 1: 3 overlapping pairs, steps 0 1, 30.0 us"});
}
