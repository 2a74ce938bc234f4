#include "lowering/passes/stage_rings.h"

#include "dsl/ir/TileDialect.h"
#include "llvm/Support/MathExtras.h"
#include "lowering/passes/emit_tma.h"
#include "lowering/passes/pipeline_uses.h"
#include "lowering/passes/smem_tile.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {

namespace {

// The same scalar: one SSA value, or two constants of one value (the DSL makes a constant
// per use).
bool sameScalar(Value a, Value b) {
  if (a == b) return true;
  APInt x, y;
  return a.getType() == b.getType() && matchPattern(a, m_ConstantInt(&x)) && matchPattern(b, m_ConstantInt(&y)) && x == y;
}

bool sameScalars(ValueRange a, ValueRange b) {
  if (a.size() != b.size()) return false;
  for (auto [x, y] : llvm::zip(a, b))
    if (!sameScalar(x, y)) return false;
  return true;
}

// Loads of one tensor map and one stage layout (rows riding in the stages included).
bool sameRing(ti::LoadBlockOp a, ti::LoadBlockOp b) {
  return a.getResult().getType() == b.getResult().getType() && a->getAttr(kStageEndAttr) == b->getAttr(kStageEndAttr) &&
         a->getAttr("tilegpu.pipeline") == b->getAttr("tilegpu.pipeline") && a.getPtr() == b.getPtr() &&
         sameScalars(a.getShape(), b.getShape()) && sameScalars(a.getStrides(), b.getStrides());
}

// The TMA loads of a loop the producer can feed (all its pipelined loads TMA-capable or rows
// riding in their stages), or none.
SmallVector<ti::LoadBlockOp> feedableLoads(scf::ForOp loop) {
  SmallVector<ti::LoadBlockOp> loads;
  for (auto load : loop.getBody()->getOps<ti::LoadBlockOp>()) {
    if (!load->hasAttr("tilegpu.pipeline") || load->hasAttr(kRowInStageAttr)) continue;
    if (!tmaCapable(load)) return {};
    loads.push_back(load);
  }
  return loads;
}

}  // namespace

void attachRowsToCarriers(func::FuncOp f) {
  f.walk([&](scf::ForOp loop) {
    ti::LoadBlockOp carrier;
    SmallVector<ti::LoadBlockOp> rows;
    for (auto load : loop.getBody()->getOps<ti::LoadBlockOp>()) {
      if (!load->hasAttr("tilegpu.pipeline")) continue;
      if (pipelinedRow(load)) rows.push_back(load);
      else if (!tmaCapable(load)) return;
      else if (!carrier) carrier = load;
    }
    if (!carrier || rows.empty()) return;
    Builder b(f.getContext());
    auto shape = carrier.getResult().getType().getShape();
    int64_t end = operandStageTile(shape).bytes;
    for (auto row : rows) {
      end = int64_t(llvm::alignTo(uint64_t(end), 16));
      row->setAttr(kRowInStageAttr, b.getI64IntegerAttr(end));
      end += rowStageTile(row.getResult().getType().getShape()).bytes;
    }
    carrier->setAttr(kStageEndAttr, b.getI64IntegerAttr(end));
  });
}

Operation* rowCarrier(Operation* row) {
  if (!row->hasAttr(kRowInStageAttr)) return nullptr;
  for (auto load : row->getBlock()->getOps<ti::LoadBlockOp>())
    if (load->hasAttr(kStageEndAttr)) return load;
  return nullptr;
}

bool carriedAcrossRuns(Operation* loop) { return loop->getParentOfType<scf::ForOp>() != nullptr; }

bool producerFeedable(scf::ForOp loop) { return !feedableLoads(loop).empty(); }

StageRings planStageRings(func::FuncOp f) {
  StageRings rings;
  f.walk([&](Block* block) {
    // Loops inside a pipelined loop keep their own stages; a plain loop around the block (a
    // persistent kernel's loop over tiles) carries the rings' use counts on.
    for (Operation* p = block->getParentOp(); p; p = p->getParentOp())
      if (isa<scf::ForOp>(p) && p->hasAttr(ti::kStagesAttr)) return;
    SmallVector<SmallVector<ti::LoadBlockOp>> found;  // rings of this block, in program order
    for (auto loop : block->getOps<scf::ForOp>()) {
      SmallVector<ti::LoadBlockOp> loads = feedableLoads(loop);
      // A loop reading one tensor twice keeps its own stages.
      bool twice = false;
      for (auto [i, a] : llvm::enumerate(loads))
        for (auto b : llvm::ArrayRef(loads).drop_front(i + 1)) twice |= sameRing(a, b);
      if (twice) continue;
      for (auto load : loads) {
        auto ring = llvm::find_if(found, [&](auto& r) { return sameRing(r.front(), load); });
        if (ring == found.end()) found.push_back({load});
        else ring->push_back(load);
      }
    }
    Operation *first = nullptr, *last = nullptr;
    for (auto& ring : found) {
      if (ring.size() < 2) continue;
      Operation* head = ring.front();
      for (auto load : ring) {
        rings.head[load] = head;
        rings.loads[head].push_back(load);
        Operation* loop = load->getParentOp();
        if (!first || loop->isBeforeInBlock(first)) first = loop;
        if (!last || last->isBeforeInBlock(loop)) last = loop;
      }
    }
    if (!first) return;
    for (auto loop : block->getOps<scf::ForOp>())
      if (llvm::any_of(feedableLoads(loop), [&](ti::LoadBlockOp l) { return rings.head.count(l); }))
        rings.group[loop] = {first, last};
  });
  return rings;
}

}  // namespace tile::lowering
