// The overlap check of distributed traces (bench/trace_overlap.h): a rank overlaps when a
// communication span of step i + 1 runs while it computes step i; other pairs do not count. A
// step without one is a miss, late or early by where its next transfers ran; a trace shaped like
// the first H100 run gets that run's verdict.
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

TEST_CASE("a miss says whether the next step's transfer ran after or before the step's compute", "[bench][trace]") {
  const std::vector<KernelSpan> spans = {
      span("attn_fwd", 0, false, 0, 0, 100),   span("p2p copy", 0, true, 1, 150, 10),  // 50 us late
      span("attn_fwd", 0, false, 1, 200, 100), span("p2p copy", 0, true, 2, 180, 10),  // 10 us early
      span("attn_fwd", 1, false, 0, 0, 100),   span("p2p copy", 1, true, 1, 50, 10),   // overlaps
      span("attn_fwd", 1, false, 3, 200, 100)};  // the last step: nothing follows it, no miss
  const std::vector<StepMiss> m = step_misses(spans);
  REQUIRE(m.size() == 2);
  CHECK(m[0].rank == 0);
  CHECK(m[0].step == 0);
  CHECK(m[0].late);
  CHECK(m[0].gap_us == Approx(50));
  CHECK(m[1].step == 1);
  CHECK_FALSE(m[1].late);
  CHECK(m[1].gap_us == Approx(10));
  CHECK(miss_summary_lines(spans) ==
        std::vector<std::string>{"rank 0: 2 steps computed without their next transfer in flight: 1 late (median "
                                 "50.0 us after), 1 early (median 10.0 us before)"});
}

TEST_CASE("a step's back-to-back kernels are one compute; unlabelled work around them is not", "[bench][trace]") {
  // A backward step: the unlabelled zero-fill of its workspace, its three kernels, then an
  // unlabelled accumulate.
  std::vector<KernelSpan> spans = {span("memset", 0, false, -1, 0, 10), span("bwd_preprocess", 0, false, 1, 10, 2),
                                   span("bwd_dkdv", 0, false, 1, 12, 288), span("bwd_dq_convert", 0, false, 1, 300, 5),
                                   span("accumulate", 0, false, -1, 305, 5)};
  spans.push_back(span("p2p copy", 0, true, 2, 306, 3));  // during the accumulate
  std::vector<StepMiss> m = step_misses(spans);
  REQUIRE(m.size() == 1);
  CHECK(m[0].start_us == Approx(10));
  CHECK(m[0].end_us == Approx(305));
  CHECK(m[0].late);
  CHECK(m[0].gap_us == Approx(1));
  // Only while the workspace was zeroed: before the step's kernels, not under them.
  spans.back().start_us = 4;
  m = step_misses(spans);
  REQUIRE(m.size() == 1);
  CHECK_FALSE(m[0].late);
  CHECK(m[0].gap_us == Approx(3));
  CHECK(ranks_without_overlap(spans) == std::vector<int>{0});
  // Under the dK/dV kernel.
  spans.back().start_us = 100;
  CHECK(step_misses(spans).empty());
  CHECK(ranks_without_overlap(spans).empty());
}

namespace {

// Four ranks' forward: steps of 200 us back to back with a 10 us unlabelled merge between them,
// and for steps 0..2 the next step's K and V (20 us each), starting `offset_us` after the step's
// compute began — or, with offset_us < 0, 5 us after it ended (late), as the first H100 run had
// them but for the three pairs it did show (rank 1 step 0 for 63.7 us, rank 2 step 2 for 13.1 us,
// rank 3 step 0 for 7.7 us).
std::vector<KernelSpan> four_ranks(double offset_us) {
  std::vector<KernelSpan> spans;
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 4; ++i) {
      const double start = 210.0 * i;
      spans.push_back(span("attn_fwd", r, false, i, start, 200));
      spans.push_back(span("merge", r, false, -1, start + 200, 10));
      if (i == 3) continue;
      double k_start = offset_us >= 0 ? start + offset_us : start + 205, k_len = 20;
      if (offset_us < 0) {
        const double h100 = r == 1 && i == 0 ? 63.7 : r == 2 && i == 2 ? 13.1 : r == 3 && i == 0 ? 7.7 : 0;
        if (h100 > 0) k_start = start + 200 - h100, k_len = h100 + 5;
      }
      spans.push_back(span("p2p copy", r, true, i + 1, k_start, k_len));
      spans.push_back(span("p2p copy", r, true, i + 1, k_start + k_len, 20));
    }
  return spans;
}

}  // namespace

TEST_CASE("a trace shaped like the first H100 run fails as it did; one with each copy under its step passes",
          "[bench][trace]") {
  const std::vector<KernelSpan> late = four_ranks(-1);
  CHECK(ranks_without_overlap(late) == std::vector<int>{0});
  CHECK(step_overlaps(late).size() == 3);  // fewer than the 4 ranks the GPU test asks for
  CHECK(overlap_summary_lines(late) == std::vector<std::string>{"rank 0: no communication overlapped compute",
                                                                 "rank 1: 1 overlapping pair, steps 0, 63.7 us",
                                                                 "rank 2: 1 overlapping pair, steps 2, 13.1 us",
                                                                 "rank 3: 1 overlapping pair, steps 0, 7.7 us"});
  CHECK(miss_summary_lines(late) ==
        std::vector<std::string>{
            "rank 0: 3 steps computed without their next transfer in flight: 3 late (median 5.0 us after)",
            "rank 1: 2 steps computed without their next transfer in flight: 2 late (median 5.0 us after)",
            "rank 2: 2 steps computed without their next transfer in flight: 2 late (median 5.0 us after)",
            "rank 3: 2 steps computed without their next transfer in flight: 2 late (median 5.0 us after)"});

  const std::vector<KernelSpan> under = four_ranks(2);
  CHECK(ranks_without_overlap(under).empty());
  CHECK(step_overlaps(under).size() == 4 * 3 * 2);  // K and V of steps 1..3 on every rank
  CHECK(step_misses(under).empty());
}
