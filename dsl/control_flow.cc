// scf.for / scf.if construction behind for_range and if_ (control_flow.h).
#include "dsl/control_flow.h"

#include "dsl/builder_state.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace tile::detail {

Value materialize(const Scalar& s) { return wrap(scalar_value(s, "carry")); }

void fail_carried_block_ptr() {
  fail("for_range", "a carried BlockPtr may only change its offsets (use .advance / .at)");
}

namespace {

std::vector<mlir::Value> unwrap_all(const Values& vs) {
  std::vector<mlir::Value> out;
  for (const Value& v : vs) out.push_back(unwrap(v));
  return out;
}

mlir::Value loop_bound(const Int& x, const char* what) {
  if (!x.is_literal() && x.dtype() != DType::i32)
    fail("for_range", std::string(what) + " must be i32, got " + x.type_str());
  return scalar_as(x, DType::i32, "for_range");
}

// Replaces the block's terminator (if any) by scf.yield(values).
void yield(mlir::OpBuilder& b, mlir::Block* block, const std::vector<mlir::Value>& values) {
  if (!block->empty() && block->back().hasTrait<mlir::OpTrait::IsTerminator>()) block->back().erase();
  b.setInsertionPointToEnd(block);
  mlir::scf::YieldOp::create(b, loc(), values);
}

}  // namespace

Values build_for(const Int& lo, const Int& hi, const Int& step, const Values& init, const LoopBody& body,
                 int stages) {
  auto& b = builder("for_range");
  if (stages < 0) fail("for_range", "stages must be >= 0, got " + std::to_string(stages));
  mlir::Value vlo = loop_bound(lo, "lower bound"), vhi = loop_bound(hi, "upper bound"),
              vstep = loop_bound(step, "step");
  if (step.is_literal() && step.literal() <= 0)
    fail("for_range", "step must be positive, got " + std::to_string(int64_t(step.literal())));
  std::vector<mlir::Value> inits = unwrap_all(init);
  auto loop = mlir::scf::ForOp::create(b, loc(), vlo, vhi, vstep, inits);
  if (stages > 0) loop->setAttr(ir::kStagesAttr, b.getI32IntegerAttr(stages));

  std::vector<mlir::Value> results;
  {
    mlir::OpBuilder::InsertionGuard guard(b);
    mlir::Block* blk = loop.getBody();
    if (!blk->empty() && blk->back().hasTrait<mlir::OpTrait::IsTerminator>())
      b.setInsertionPoint(&blk->back());
    else
      b.setInsertionPointToEnd(blk);
    Values carried;
    for (mlir::Value a : loop.getRegionIterArgs()) carried.push_back(wrap(a));
    Values out = body(Int(wrap(loop.getInductionVar())), carried);
    if (out.size() != init.size())
      fail("for_range", "body returned " + std::to_string(out.size()) + " values for " +
                            std::to_string(init.size()) + " carried");
    std::vector<mlir::Value> yielded = unwrap_all(out);
    for (size_t i = 0; i < yielded.size(); ++i)
      if (yielded[i].getType() != inits[i].getType())
        fail("for_range", "carried value " + std::to_string(i) + " changes type from " +
                              type_str(inits[i].getType()) + " to " + type_str(yielded[i].getType()));
    yield(b, blk, yielded);
  }
  Values out;
  for (mlir::Value r : loop.getResults()) out.push_back(wrap(r));
  return out;
}

Values build_if(const Bool& cond, const Branch& then, const Branch& otherwise, bool has_else) {
  auto& b = builder("if_");
  if (!cond.is_literal() && cond.dtype() != DType::i1)
    fail("if_", "condition must be i1 (a comparison), got " + cond.type_str());
  mlir::Value c = scalar_as(cond, DType::i1, "if_");
  // Result types are known only after the branches are built: build without results first,
  // then move the regions into an scf.if with the right result types.
  auto draft = mlir::scf::IfOp::create(b, loc(), mlir::TypeRange{}, c, has_else);
  std::vector<mlir::Value> then_values, else_values;
  {
    mlir::OpBuilder::InsertionGuard guard(b);
    mlir::Block* blk = draft.thenBlock();
    b.setInsertionPoint(blk->getTerminator());
    then_values = unwrap_all(then());
    if (has_else) {
      mlir::Block* eblk = draft.elseBlock();
      b.setInsertionPoint(eblk->getTerminator());
      else_values = unwrap_all(otherwise());
    }
    if (has_else && then_values.size() != else_values.size())
      fail("if_", "then yields " + std::to_string(then_values.size()) + " values but else yields " +
                      std::to_string(else_values.size()));
    for (size_t i = 0; i < else_values.size(); ++i)
      if (then_values[i].getType() != else_values[i].getType())
        fail("if_", "result " + std::to_string(i) + ": then yields " + type_str(then_values[i].getType()) +
                        " but else yields " + type_str(else_values[i].getType()));
    if (then_values.empty()) return {};
    yield(b, blk, then_values);
    yield(b, draft.elseBlock(), else_values);
  }
  mlir::SmallVector<mlir::Type> types;
  for (mlir::Value v : then_values) types.push_back(v.getType());
  auto op = mlir::scf::IfOp::create(b, loc(), types, c, /*withElseRegion=*/true);
  op.getThenRegion().takeBody(draft.getThenRegion());
  op.getElseRegion().takeBody(draft.getElseRegion());
  draft->erase();
  Values out;
  for (mlir::Value r : op.getResults()) out.push_back(wrap(r));
  return out;
}

}  // namespace tile::detail
