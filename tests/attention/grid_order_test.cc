// The grid's renumbering (heavy_first_tile, attention/kernels/attention_common.cc), evaluated on
// the interpreter: every (block, batch * heads) tile is computed by exactly one program, the
// heads go in groups of the requested size (the last one narrower), and inside a group the
// programs in launch order visit the heaviest block of every head before any lighter one. A
// mistake here either drops a tile (part of the output never written: the accuracy tests catch
// that only for the grid shapes they happen to use) or computes one twice.
#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <vector>

#include "attention/interp_backend/interp_backend.h"
#include "attention/kernels/attention_kernel.h"
#include "attention/kernels/kernel_table.h"

using namespace tile;
using namespace tile::attention;

namespace {

// Writes each program's tile at out[2 * launch index ..]: its block, then its batch * heads index.
void grid_order_probe(KernelBuilder& k, const Params& p) {
  const bool heaviest_last = p.get_int("HEAVIEST_LAST") != 0;
  Ptr out = k.arg_ptr("out", DType::i32);
  Int group = k.arg_i32("heads_per_group");
  GridTile t = heavy_first_tile(group, heaviest_last);
  Int launch = program_id(1) * num_programs(0) + program_id(0);
  Tile lane = arange(0, 2);
  store(out, launch * 2 + lane, where(lane == 0, t.block, t.batch_head));
}
TILE_REGISTER_KERNEL(grid_order_probe, "test_grid_order_probe", {{"HEAVIEST_LAST", 1}});

void l2_group_probe(KernelBuilder& k, const Params& p) {
  Ptr out = k.arg_ptr("out", DType::i32);
  Int len_k = k.arg_i32("len_k"), shared = k.arg_i32("shared");
  store(out, arange(0, 1), full({1}, heads_per_l2_group(len_k, int(p.get_int("TOKEN_BYTES")), shared)));
}
TILE_REGISTER_KERNEL(l2_group_probe, "test_l2_group_probe", {{"TOKEN_BYTES", 512}});

std::vector<int32_t> run_probe(int blocks, int heads, int group, bool heaviest_last) {
  InterpBackend backend{InterpBackend::Options{7, 0}};
  std::vector<int32_t> out(size_t(blocks) * size_t(heads) * 2, -1);
  KernelCall call;
  call.kernel = "test_grid_order_probe";
  call.params = Params{{"HEAVIEST_LAST", heaviest_last ? 1 : 0}};
  call.grid = {blocks, heads, 1};
  call.args = {LaunchArg::buffer(out.data(), DType::i32, int64_t(out.size())), LaunchArg::i32(group)};
  backend.launch(call);
  return out;
}

}  // namespace

TEST_CASE("heavy_first_tile renumbers the grid one to one, heaviest blocks first in each L2 group",
          "[attention][grid_order]") {
  for (bool heaviest_last : {true, false})
    for (int blocks : {1, 2, 7, 32})
      for (int heads : {1, 3, 16, 33})
        for (int group : {1, 2, 5, 16, 64}) {
          CAPTURE(heaviest_last, blocks, heads, group);
          std::vector<int32_t> out = run_probe(blocks, heads, group, heaviest_last);
          std::set<std::pair<int, int>> seen;
          int previous_group = 0, previous_weight = -1;
          for (int launch = 0; launch < blocks * heads; ++launch) {
            int block = out[size_t(2 * launch)], head = out[size_t(2 * launch + 1)];
            CAPTURE(launch, block, head);
            REQUIRE(block >= 0);
            REQUIRE(block < blocks);
            REQUIRE(head >= 0);
            REQUIRE(head < heads);
            REQUIRE(seen.insert({block, head}).second);
            // Groups in order; inside one, the weight (0 = heaviest) never decreases.
            int g = head / group, weight = heaviest_last ? blocks - 1 - block : block;
            REQUIRE(g >= previous_group);
            if (g != previous_group) previous_weight = -1;
            REQUIRE(weight >= previous_weight);
            previous_group = g, previous_weight = weight;
          }
          REQUIRE(int(seen.size()) == blocks * heads);
        }
}

TEST_CASE("heads_per_l2_group keeps a group's K and V within 32 MB and GQA groups whole", "[attention][grid_order]") {
  InterpBackend backend{InterpBackend::Options{7, 0}};
  auto group = [&](int len_k, int shared) {
    std::vector<int32_t> out(1, -1);
    KernelCall call;
    call.kernel = "test_l2_group_probe";
    call.params = Params{{"TOKEN_BYTES", 512}};
    call.grid = {1, 1, 1};
    call.args = {LaunchArg::buffer(out.data(), DType::i32, 1), LaunchArg::i32(len_k), LaunchArg::i32(shared)};
    backend.launch(call);
    return out[0];
  };
  // 512 B a token (d=128 bf16 K and V): 2 MB a head at 4096 tokens.
  REQUIRE(group(4096, 1) == 16);
  REQUIRE(group(16384, 1) == 4);
  REQUIRE(group(16384, 8) == 32);   // 8 q heads read one K/V head
  REQUIRE(group(1 << 20, 1) == 1);  // never fewer than one head
  REQUIRE(group(0, 1) == 65536);    // empty keys: no division by zero
}
