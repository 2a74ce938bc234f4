// The producer/consumer register splits of warp-specialised kernels: which ones are balanced
// against what a block holds at launch, and the rewrite of a kernel's two setmaxnreg (no MLIR,
// no ptxas).
#include <catch2/catch.hpp>

#include "lowering/backend/register_split.h"

namespace be = tile::backend;

TEST_CASE("launch registers: the register file shared by the block's threads, in 8s") {
  CHECK(be::launch_registers(384) == 168);  // producer warpgroup + two consumer warpgroups
  CHECK(be::launch_registers(256) == 255);  // capped at what a thread can address
  CHECK(be::launch_registers(640) == 96);
  CHECK(be::launch_registers(0) == 0);
}

TEST_CASE("a split never asks the pool for more than the producer gave back") {
  for (int consumer_threads : {128, 256, 384}) {
    const int block_threads = 128 + consumer_threads;
    const int launch = be::launch_registers(block_threads);
    for (const be::RegisterSplit& s : be::register_split_candidates(128, consumer_threads, 4)) {
      INFO("consumer threads " << consumer_threads << ", split " << s.producer << "/" << s.consumer);
      CHECK(s.producer % 8 == 0);
      CHECK(s.consumer % 8 == 0);
      CHECK(s.producer >= be::kMinSplitRegisters);
      CHECK(s.consumer <= be::kMaxConsumerRegisters);
      // What the consumers take beyond their launch count, the producer must have released.
      CHECK((s.consumer - launch) * consumer_threads <= (launch - s.producer) * 128);
    }
  }
}

TEST_CASE("candidates: the default first, then one per consumer level with the largest producer") {
  CHECK(be::default_register_split(128, 256) == be::RegisterSplit{24, 240});
  const auto two = be::register_split_candidates(128, 256, 3);
  REQUIRE(two.size() == 3);
  CHECK(two[0] == be::RegisterSplit{24, 240});
  CHECK(two[1] == be::RegisterSplit{40, 232});  // 48 would leave 228, below 232
  CHECK(two[2] == be::RegisterSplit{56, 224});
  // Three consumer warpgroups (128 registers each at launch).
  const auto three = be::register_split_candidates(128, 384, 2);
  REQUIRE(three.size() == 2);
  CHECK(three[0] == be::RegisterSplit{32, 160});
  CHECK(three[1] == be::RegisterSplit{56, 152});
  // One consumer warpgroup starts at 255: no split below the default raises it.
  const auto one = be::register_split_candidates(128, 128, 3);
  REQUIRE(one.size() == 1);
  CHECK(one[0] == be::RegisterSplit{24, 240});
}

TEST_CASE("rewriting a kernel's split touches only that entry's two setmaxnreg") {
  const std::string two_entries =
      ".visible .entry first(\n)\n{\n"
      "\tsetmaxnreg.dec.sync.aligned.u32 24;\n\tsetmaxnreg.inc.sync.aligned.u32 240;\n}\n"
      ".visible .entry second(\n)\n{\n"
      "\tsetmaxnreg.inc.sync.aligned.u32 240;\n\tsetmaxnreg.dec.sync.aligned.u32 24;\n}\n";
  SECTION("the named entry") {
    std::string ptx = two_entries;
    REQUIRE(be::rewrite_register_split(ptx, "second", {24, 240}, {40, 232}));
    CHECK(ptx ==
          ".visible .entry first(\n)\n{\n"
          "\tsetmaxnreg.dec.sync.aligned.u32 24;\n\tsetmaxnreg.inc.sync.aligned.u32 240;\n}\n"
          ".visible .entry second(\n)\n{\n"
          "\tsetmaxnreg.inc.sync.aligned.u32 232;\n\tsetmaxnreg.dec.sync.aligned.u32 40;\n}\n");
  }
  SECTION("counts other than the recorded ones: nothing changes") {
    std::string ptx = two_entries;
    CHECK_FALSE(be::rewrite_register_split(ptx, "first", {32, 232}, {40, 232}));
    CHECK(ptx == two_entries);
  }
  SECTION("an entry that is not there, or one without a split") {
    std::string ptx = two_entries + ".visible .entry plain(\n)\n{\n\tret;\n}\n";
    const std::string before = ptx;
    CHECK_FALSE(be::rewrite_register_split(ptx, "third", {24, 240}, {40, 232}));
    CHECK_FALSE(be::rewrite_register_split(ptx, "plain", {24, 240}, {40, 232}));
    CHECK(ptx == before);
  }
  SECTION("two of a kind in one entry: ambiguous, nothing changes") {
    std::string ptx =
        ".visible .entry twice(\n)\n{\n\tsetmaxnreg.dec.sync.aligned.u32 24;\n"
        "\tsetmaxnreg.dec.sync.aligned.u32 24;\n\tsetmaxnreg.inc.sync.aligned.u32 240;\n}\n";
    const std::string before = ptx;
    CHECK_FALSE(be::rewrite_register_split(ptx, "twice", {24, 240}, {40, 232}));
    CHECK(ptx == before);
  }
}
