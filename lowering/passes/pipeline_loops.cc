// tile-pipeline-loops: picks the loads a `tile.stages = S` loop software-pipelines.
//
// A load_block in the loop body qualifies when its tile only feeds dots (each use a
// convert_layout to a dot_op layout, directly or through a trans) or is a row (1-D) of 32-bit
// values, whatever it feeds (the backward's per-query LSE and delta; only in loops of one
// version, see runOnOperation), its padding is zero (what cp.async's zero fill gives), and its
// address operands can be computed S-1 iterations ahead:
// they are loop invariants, the induction variable, or scalar arithmetic and scalar loads on
// those and on scalar iter_args whose updates are themselves such arithmetic (a loop over a
// list of block indices: offset = list[i] * BLOCK; the copies issued ahead read the list only
// for iterations that run, emit_pipeline's evalAhead). Qualifying loads get
// `tilegpu.pipeline = S`; tile-convert-to-gpu then fetches them with cp.async into S
// shared-memory buffers, S-1 iterations ahead, and the dot reads them from there with ldmatrix
// (a row: the load itself becomes the reads of its registers from the stage).
#include "dsl/ir/TileDialect.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/layout/linear_layout.h"
#include "lowering/passes/emit_tma.h"
#include "lowering/passes/passes.h"
#include "lowering/passes/pipeline_uses.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

using namespace mlir;
namespace ti = tile::ir;
namespace tg = tile::gpu;

namespace tile::lowering {

bool computableAhead(scf::ForOp forOp, Value v, DenseSet<Value>& visiting) {
  if (!forOp->isProperAncestor(v.getParentBlock()->getParentOp()) && v.getParentBlock() != forOp.getBody())
    return true;  // defined outside the loop
  if (v == forOp.getInductionVar()) return true;
  if (!v.getType().isIntOrIndexOrFloat() && !isa<ti::PtrType>(v.getType())) return false;
  if (!visiting.insert(v).second) return true;  // a recurrence through an iter_arg
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getOwner() != forOp.getBody()) return false;
    unsigned idx = arg.getArgNumber() - 1;
    return computableAhead(forOp, forOp.getBody()->getTerminator()->getOperand(idx), visiting);
  }
  Operation* def = v.getDefiningOp();
  if (def->getBlock() != forOp.getBody() || def->getNumRegions() || def->getNumResults() != 1) return false;
  // A scalar load reads an index list (a block mask's listed blocks): the kernel's inputs do not
  // change while it runs, so reading entry i+S-1 early gives what iteration i+S-1 reads.
  if (!isa<ti::AddPtrOp, ti::LoadScalarOp>(def) && def->getDialect()->getNamespace() != "arith") return false;
  for (Value operand : def->getOperands())
    if (!computableAhead(forOp, operand, visiting)) return false;
  return true;
}

// The convert_layouts (to dot operands, in the load's block) that consume `load`, each directly
// or through a trans; empty unless every use of the load is one of them. One buffer serves them
// all: a wgmma descriptor or ldmatrix reads the stage K-major or MN-major as each needs (the
// backward's Q tile is both B of Sᵀ = K·Qᵀ and B of dK += dSᵀ·Q).
SmallVector<PipelineUse> pipelinedConsumers(ti::LoadBlockOp load) {
  SmallVector<PipelineUse> uses;
  auto dotOperand = [&](Operation* user) -> tg::ConvertLayoutOp {
    auto cv = dyn_cast<tg::ConvertLayoutOp>(user);
    if (!cv || cv->getBlock() != load->getBlock() || !isa<tg::DotOperandAttr>(cv.getResult().getType().getEncoding()))
      return {};
    return cv;
  };
  for (Operation* user : load.getResult().getUsers()) {
    if (auto tr = dyn_cast<ti::TransOp>(user)) {
      if (tr->getBlock() != load->getBlock() || tr.getResult().use_empty()) return {};
      for (Operation* trUser : tr.getResult().getUsers()) {
        auto cv = dotOperand(trUser);
        if (!cv) return {};
        uses.push_back({tr, cv});
      }
      continue;
    }
    auto cv = dotOperand(user);
    if (!cv) return {};
    uses.push_back({nullptr, cv});
  }
  return uses;
}

namespace {

bool qualifies(scf::ForOp forOp, ti::LoadBlockOp load) {
  auto tt = load.getResult().getType();
  if (!load.getPadding().isZero()) return false;
  if (pipelinedRow(load)) {
    // A row of 32-bit values: copied 4 bytes per element, read wherever the tile is used.
    if (tt.getElementType().getIntOrFloatBitWidth() != 32 || tt.getShape()[0] > kMaxPipelinedRow) return false;
  } else {
    if (tt.getRank() != 2 || tt.getElementType().getIntOrFloatBitWidth() != 16) return false;
    if (pipelinedConsumers(load).empty()) return false;
    auto l = layoutOf(tt);
    if (failed(l)) return false;
    int64_t run = std::min<int64_t>(contiguityAlong(*l, 1), 8);  // cp.async moves 4, 8 or 16 bytes
    if (run < 2) return false;
  }
  DenseSet<Value> visiting;
  for (Value v : load->getOperands())
    if (!computableAhead(forOp, v, visiting)) return false;
  return true;
}

struct PipelineLoopsPass : PassWrapper<PipelineLoopsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PipelineLoopsPass)
  StringRef getArgument() const override { return "tile-pipeline-loops"; }
  StringRef getDescription() const override {
    return "Mark the dot-operand and row loads of tile.stages loops for cp.async multi-stage prefetching";
  }
  void getDependentDialects(DialectRegistry& registry) const override { registry.insert<tg::TilegpuDialect>(); }
  void runOnOperation() override {
    getOperation().walk([&](scf::ForOp forOp) {
      auto stages = forOp->getAttrOfType<IntegerAttr>(ti::kStagesAttr);
      if (!stages || stages.getInt() < 2) return;
      auto mark = [&](ti::LoadBlockOp load) {
        load->setAttr("tilegpu.pipeline", IntegerAttr::get(IntegerType::get(&getContext(), 32), stages.getInt()));
      };
      for (auto load : forOp.getBody()->getOps<ti::LoadBlockOp>())
        if (!pipelinedRow(load) && qualifies(forOp, load)) mark(load);
      // Rows only in a loop of one version: one whose TMA loads' run-time rules the facts
      // settle (else it also has a cp.async version, where rows measured slower: README).
      if (!tmaRulesSettled(forOp)) return;  // tmaCapable: the loads marked above only
      for (auto load : forOp.getBody()->getOps<ti::LoadBlockOp>())
        if (pipelinedRow(load) && qualifies(forOp, load)) mark(load);
    });
  }
};

}  // namespace

std::unique_ptr<Pass> createPipelineLoopsPass() { return std::make_unique<PipelineLoopsPass>(); }

}  // namespace tile::lowering
