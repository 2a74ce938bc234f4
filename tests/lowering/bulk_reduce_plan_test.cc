// Which layouts the bulk reduce-add lowering takes (emit_bulk_reduce.h), and that a plan's row
// segments are exactly the elements each warp holds: a segment missing would drop part of the
// sum, one too many would add another warp's staging bytes.
#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "lowering/ir/TilegpuDialect.h"
#include "lowering/layout/linear_layout.h"
#include "lowering/passes/emit_bulk_reduce.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

using tile::lowering::BulkReducePlan;
using tile::lowering::Coord;
using tile::lowering::LinearLayout;

namespace {

LinearLayout layout(const char* encoding, std::vector<int64_t> shape) {
  static mlir::MLIRContext ctx;
  ctx.loadDialect<tile::gpu::TilegpuDialect>();
  mlir::Attribute enc = mlir::parseAttribute(encoding, &ctx);
  REQUIRE(enc);
  auto l = tile::lowering::layoutOf(enc, shape);
  REQUIRE(mlir::succeeded(l));
  return *l;
}

Coord xorBits(Coord c, const std::vector<Coord>& bases, int64_t bits) {
  for (size_t b = 0; b < bases.size(); ++b)
    if (bits >> b & 1)
      for (size_t d = 0; d < c.size(); ++d) c[d] ^= bases[b][d];
  return c;
}

// Every (row, column) warp `w` holds, and every one its segments cover.
std::set<std::pair<int64_t, int64_t>> held(const LinearLayout& l, int w) {
  std::set<std::pair<int64_t, int64_t>> out;
  for (int lane = 0; lane < 32; ++lane)
    for (int64_t r = 0; r < l.numRegs(); ++r) {
      Coord c = xorBits(xorBits(l.regCoord(r), l.lane, lane), l.warp, w);
      out.insert({c[0], c[1]});
    }
  return out;
}
std::set<std::pair<int64_t, int64_t>> covered(const LinearLayout& l, const BulkReducePlan& p, int w) {
  Coord origin = xorBits(Coord(2, 0), l.warp, w);
  std::set<std::pair<int64_t, int64_t>> out;
  for (int64_t s = 0; s < p.segmentsPerWarp(); ++s) {
    Coord at = origin;
    for (size_t j = 0; j < p.segmentBases.size(); ++j)
      if (s >> j & 1) at[size_t(p.segmentBases[j].first)] += p.segmentBases[j].second;
    for (int64_t c = 0; c < p.segmentCols; ++c) out.insert({at[0], at[1] + c});
  }
  return out;
}

}  // namespace

TEST_CASE("bulk reduce-add: the wgmma accumulator gives each warp 16 whole rows of its columns", "[bulk]") {
  // 8 warps on a 64x128 tile: two warpgroups split the columns in blocks (the d=128
  // backward's dQ).
  LinearLayout l = layout("#tilegpu.mma<warpsPerCTA = [4, 2], columnBlocks = true>", {64, 128});
  auto p = tile::lowering::planBulkReduce(l, {64, 128});
  INFO(l.str());
  REQUIRE(p);
  CHECK(p->segmentCols == 64);
  CHECK(p->segmentsPerWarp() == 16);
  CHECK(p->pitchBytes == (128 + 8) * 4);  // 136 words: 8 past a multiple of 32 banks
  CHECK(p->regionBytes() == 64 * 136 * 4);
  for (int w = 0; w < 8; ++w) CHECK(covered(l, *p, w) == held(l, w));
}

TEST_CASE("bulk reduce-add: one warpgroup, 64 columns", "[bulk]") {
  LinearLayout l = layout("#tilegpu.mma<warpsPerCTA = [4, 1]>", {64, 64});
  auto p = tile::lowering::planBulkReduce(l, {64, 64});
  INFO(l.str());
  REQUIRE(p);
  CHECK(p->segmentCols == 64);
  CHECK(p->pitchBytes == 72 * 4);
  for (int w = 0; w < 4; ++w) CHECK(covered(l, *p, w) == held(l, w));
}

TEST_CASE("bulk reduce-add refused: short column runs, warps holding copies", "[bulk]") {
  {  // mma.sync's warps along N tile 8 columns side by side: 32-byte segments (the d=64 dQ).
    LinearLayout l = layout("#tilegpu.mma<warpsPerCTA = [4, 2]>", {64, 64});
    INFO(l.str());
    CHECK_FALSE(tile::lowering::planBulkReduce(l, {64, 64}));
  }
  {  // 16 rows over 4 warps along M: two warps hold the same rows and would both add them.
    LinearLayout l = layout("#tilegpu.mma<warpsPerCTA = [4, 1]>", {16, 64});
    INFO(l.str());
    CHECK_FALSE(tile::lowering::planBulkReduce(l, {16, 64}));
  }
}
