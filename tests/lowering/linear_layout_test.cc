// The layouts behind code generation, checked against the PTX ISA's fragment tables and for
// coverage: every element owned, replication only where a base is zero.
#include <catch2/catch.hpp>

#include <map>

#include "lowering/ir/TilegpuDialect.h"
#include "lowering/layout/default_layouts.h"
#include "lowering/layout/linear_layout.h"
#include "mlir/IR/MLIRContext.h"

using tile::lowering::Coord;
using tile::lowering::LinearLayout;
namespace tg = tile::gpu;

namespace {

struct Ctx {
  mlir::MLIRContext ctx;
  Ctx() { ctx.loadDialect<tg::TilegpuDialect>(); }
};

LinearLayout layout(mlir::Attribute enc, std::vector<int64_t> shape) {
  std::string why;
  auto l = tile::lowering::layoutOf(enc, shape, &why);
  INFO(why);
  REQUIRE(mlir::succeeded(l));
  return *l;
}

// Coordinate of register r of lane `lane` in warp `warp`.
Coord at(const LinearLayout& l, int warp, int lane, int64_t r) {
  Coord c = l.regCoord(r);
  for (size_t b = 0; b < l.lane.size(); ++b)
    if (lane >> b & 1)
      for (size_t d = 0; d < c.size(); ++d) c[d] ^= l.lane[b][d];
  for (size_t b = 0; b < l.warp.size(); ++b)
    if (warp >> b & 1)
      for (size_t d = 0; d < c.size(); ++d) c[d] ^= l.warp[b][d];
  return c;
}

// Every element is held the same number of times (the replication of zero lane/warp bases),
// never twice by one thread.
void checkCoverage(const LinearLayout& l) {
  int warps = 1 << l.warp.size();
  int64_t zeroBases = 0;
  for (auto* bases : {&l.lane, &l.warp})
    for (auto& b : *bases) zeroBases += tile::lowering::baseDim(b).first < 0;
  std::map<Coord, int> count;
  for (int w = 0; w < warps; ++w)
    for (int ln = 0; ln < 32; ++ln) {
      std::map<Coord, int> mine;
      for (int64_t r = 0; r < l.numRegs(); ++r) {
        Coord c = at(l, w, ln, r);
        for (size_t d = 0; d < c.size(); ++d) REQUIRE((c[d] >= 0 && c[d] < l.shape[d]));
        REQUIRE(++mine[c] == 1);
        ++count[c];
      }
    }
  int64_t elems = 1;
  for (int64_t s : l.shape) elems *= s;
  REQUIRE(int64_t(count.size()) == elems);
  for (auto& [c, n] : count) REQUIRE(n == (1 << zeroBases));
}

}  // namespace

TEST_CASE("mma accumulator matches mma.m16n8k16 C fragments", "[layout]") {
  Ctx c;
  auto l = layout(tg::MmaAttr::get(&c.ctx, {4, 1}, false), {64, 64});
  checkCoverage(l);
  for (int w = 0; w < 4; ++w)
    for (int ln = 0; ln < 32; ++ln) {
      int g = ln / 4, t = ln % 4;
      for (int n8 = 0; n8 < 8; ++n8)
        for (int i = 0; i < 4; ++i) {
          Coord want{16 * w + g + 8 * (i / 2), 8 * n8 + 2 * t + (i % 2)};
          Coord rc{want[0] - 16 * w - g, want[1] - 2 * t};
          int64_t r = l.regAt(rc);
          REQUIRE(r >= 0);
          REQUIRE(at(l, w, ln, r) == want);
        }
    }
}

TEST_CASE("dot operand layouts match mma.m16n8k16 A and B fragments", "[layout]") {
  Ctx c;
  auto mma = tg::MmaAttr::get(&c.ctx, {1, 1}, false);
  auto a = layout(tg::DotOperandAttr::get(&c.ctx, 0, mma), {16, 16});
  auto b = layout(tg::DotOperandAttr::get(&c.ctx, 1, mma), {16, 8});
  checkCoverage(a);
  checkCoverage(b);
  REQUIRE(a.numRegs() == 8);
  REQUIRE(b.numRegs() == 4);
  for (int ln = 0; ln < 32; ++ln) {
    int g = ln / 4, t = ln % 4;
    for (int i = 0; i < 8; ++i)  // a_i: row g + 8*((i/2)%2), col 2t + i%2 + 8*(i/4)
      REQUIRE(at(a, 0, ln, i) == Coord{g + 8 * ((i / 2) % 2), 2 * t + i % 2 + 8 * (i / 4)});
    for (int i = 0; i < 4; ++i)  // b_i: row (k) 2t + i%2 + 8*(i/2), col g
      REQUIRE(at(b, 0, ln, i) == Coord{2 * t + i % 2 + 8 * (i / 2), g});
  }
}

TEST_CASE("mma accumulator and A operand put the same elements in the same threads", "[layout]") {
  Ctx c;
  auto mma = tg::MmaAttr::get(&c.ctx, {4, 1}, false);
  auto acc = layout(mma, {64, 64});
  auto a = layout(tg::DotOperandAttr::get(&c.ctx, 0, mma), {64, 64});
  REQUIRE(acc.sameThreadBases(a));
  for (int64_t r = 0; r < a.numRegs(); ++r) REQUIRE(acc.regAt(a.regCoord(r)) >= 0);
}

TEST_CASE("mma columnBlocks: each warpgroup owns m64 x N/wn contiguous columns (wgmma's fragments)", "[layout]") {
  Ctx c;
  auto mma = tg::MmaAttr::get(&c.ctx, {4, 2}, true);
  auto l = layout(mma, {64, 128});
  checkCoverage(l);
  REQUIRE(l.numRegs() == 32);  // 64 x 64 per warpgroup over 128 threads
  for (int w = 0; w < 8; ++w)
    for (int ln = 0; ln < 32; ++ln) {
      int g = ln / 4, t = ln % 4;
      // wgmma m64n64 accumulator of warpgroup w / 4, shifted by its column block.
      for (int r = 0; r < 32; ++r) {
        Coord got = at(l, w, ln, r);
        REQUIRE(got[0] % 8 == g);
        REQUIRE(got[0] / 16 == w % 4);
        REQUIRE(got[1] / 64 == w / 4);
        REQUIRE(got[1] % 8 / 2 == t);
      }
    }
  // Its A operand replicates over the column blocks; a one-column tile (a broadcast's source)
  // replicates too.
  checkCoverage(layout(tg::DotOperandAttr::get(&c.ctx, 0, mma), {64, 128}));
  checkCoverage(layout(mma, {64, 1}));
  checkCoverage(layout(tg::SliceAttr::get(&c.ctx, 1, mma), {64}));
  auto b = layout(tg::DotOperandAttr::get(&c.ctx, 1, mma), {128, 128});
  checkCoverage(b);
  for (int64_t r = 0; r < b.numRegs(); ++r) REQUIRE(l.regAt(Coord{0, b.regCoord(r)[1]}) >= 0);
  // The default layout of a wgmma-shaped 64-row dot over 8 warps is this one.
  REQUIRE(tile::lowering::wgmmaShape(64, 128, 128, 16, true, 8));
  REQUIRE(!tile::lowering::wgmmaShape(64, 64, 128, 16, true, 8));  // 32-column blocks
  REQUIRE(tile::lowering::defaultMma(&c.ctx, {64, 128}, 8, true, true) == mma);
  REQUIRE(!tile::lowering::defaultMma(&c.ctx, {128, 128}, 8, true, true).getColumnBlocks());
}

TEST_CASE("default blocked layouts cover their tiles", "[layout]") {
  Ctx c;
  struct Case {
    std::vector<int64_t> shape;
    unsigned bits, warps;
  };
  for (auto k : std::vector<Case>{{{1024}, 32, 4}, {{64}, 32, 4}, {{16}, 32, 8}, {{64, 64}, 16, 4},
                                  {{128, 64}, 16, 8}, {{16, 256}, 32, 4}, {{1, 1024}, 16, 4},
                                  {{4, 256}, 32, 4}, {{8, 8}, 32, 4}, {{64, 1}, 32, 4}}) {
    auto enc = tile::lowering::defaultBlocked(&c.ctx, k.shape, k.bits, k.warps);
    auto l = layout(enc, k.shape);
    REQUIRE(l.lane.size() == 5);
    REQUIRE((int64_t(1) << l.warp.size()) == k.warps);
    checkCoverage(l);
  }
}

TEST_CASE("blocked loads own 16-byte runs along the contiguous dimension", "[layout]") {
  Ctx c;
  auto l = layout(tile::lowering::defaultBlocked(&c.ctx, {64, 64}, 16, 4), {64, 64});
  REQUIRE(tile::lowering::contiguityAlong(l, 1) == 8);
  auto f = layout(tile::lowering::defaultBlocked(&c.ctx, {16, 256}, 32, 4), {16, 256});
  REQUIRE(tile::lowering::contiguityAlong(f, 1) == 4);
}

TEST_CASE("slice layouts drop the reduced dimension and replicate over its lanes", "[layout]") {
  Ctx c;
  auto mma = tg::MmaAttr::get(&c.ctx, {4, 1}, false);
  auto row = layout(tg::SliceAttr::get(&c.ctx, 1, mma), {64});
  checkCoverage(row);
  REQUIRE(row.numRegs() == 2);  // rows g and g + 8 of the warp's 16
  REQUIRE(tile::lowering::baseDim(row.lane[0]).first == -1);
  REQUIRE(tile::lowering::baseDim(row.lane[1]).first == -1);
  auto blk = tile::lowering::defaultBlocked(&c.ctx, {16, 256}, 32, 4);
  checkCoverage(layout(tg::SliceAttr::get(&c.ctx, 0, blk), {256}));
  checkCoverage(layout(tg::SliceAttr::get(&c.ctx, 1, blk), {16}));
}

TEST_CASE("regAt inverts regCoord", "[layout]") {
  Ctx c;
  auto l = layout(tile::lowering::defaultBlocked(&c.ctx, {128, 64}, 16, 8), {128, 64});
  for (int64_t r = 0; r < l.numRegs(); ++r) REQUIRE(l.regAt(l.regCoord(r)) == r);
  REQUIRE(l.regAt(Coord{1, 0}) == -1);  // held by another thread
}
