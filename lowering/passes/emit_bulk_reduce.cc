// atomic_add_block by bulk reduce-add: see emit_bulk_reduce.h.
#include "lowering/passes/emit_bulk_reduce.h"

#include <algorithm>

#include "llvm/Support/MathExtras.h"
#include "lowering/passes/async_ptx.h"
#include "lowering/passes/memory_helpers.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {

namespace {
constexpr int64_t kF32Bytes = 4;
constexpr int64_t kBulkAlignBytes = 16;  // cp.reduce.async.bulk: addresses and sizes
// Shorter segments cost more than the per-element atomics: on the H100 the d=64 dK/dV program,
// whose mma.sync dQ layout gives a warp runs of 8 columns (32-byte segments, two reduces a lane),
// ran its backward 64 % longer than with red.global.add.v2 (bench/RESULTS.md, 2026-12-06), where
// 256-byte segments (the wgmma layout at d=128) made it 5-6 % faster.
constexpr int64_t kMinSegmentBytes = 128;
}  // namespace

std::optional<BulkReducePlan> planBulkReduce(const LinearLayout& l, llvm::ArrayRef<int64_t> shape) {
  if (l.rank() != 2 || shape.size() != 2) return std::nullopt;
  // Two warps holding the same elements would both add them.
  for (const Coord& w : l.warp)
    if (baseDim(w).first < 0) return std::nullopt;
  BulkReducePlan p;
  std::vector<int64_t> colBases;
  for (const auto* bases : {&l.reg, &l.lane}) {  // zero lane bases: replicated lanes store the same values
    for (const Coord& c : *bases) {
      auto [dim, v] = baseDim(c);
      if (dim == 0) p.segmentBases.push_back({0, v});
      if (dim == 1) colBases.push_back(v);
    }
  }
  // The contiguous run: column bases 1, 2, 4, ...; the larger ones start further segments.
  std::sort(colBases.begin(), colBases.end());
  size_t run = 0;
  while (run < colBases.size() && colBases[run] == int64_t(1) << run) ++run;
  for (size_t i = run; i < colBases.size(); ++i) p.segmentBases.push_back({1, colBases[i]});
  p.segmentCols = int64_t(1) << run;
  if (p.segmentCols * kF32Bytes < kMinSegmentBytes) return std::nullopt;
  p.rows = shape[0], p.cols = shape[1];
  int64_t padWords = ((8 - p.cols) % 32 + 32) % 32;
  p.pitchBytes = (p.cols + padWords) * kF32Bytes;
  return p;
}

std::optional<BulkReducePlan> planBulkReduce(RankedTensorType type) {
  if (!type.getElementType().isF32()) return std::nullopt;
  auto l = layoutOf(type);
  if (failed(l)) return std::nullopt;
  return planBulkReduce(*l, type.getShape());
}

namespace {

// The bulk path: wait until this warp's earlier reduces have read the region, stage the
// fragments, make them visible to the async proxy, then its first lane adds every row segment.
void emitBulkPath(KernelEmitter& e, ti::AtomicAddBlockOp op, const BulkReducePlan& p, const LinearLayout& l,
                  int64_t regionOffset) {
  OpBuilder& b = e.b;
  Location loc = op.getLoc();
  auto i32c = [&](int64_t v) { return e.i32(v); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulIOp>(loc, x, y).getResult(); };
  Value ptr = e.scalar(op.getPtr());
  Value shape0 = e.scalar(op.getShape()[0]), shape1 = e.scalar(op.getShape()[1]);
  Value stride0 = e.scalar(op.getStrides()[0]);
  Value offset0 = e.scalar(op.getOffsets()[0]), offset1 = e.scalar(op.getOffsets()[1]);

  // The region is written again only once the warp's earlier reduces have read it: the issuing
  // lane waits, and the warp sync orders the other lanes' stores after its wait.
  inlineAsm(b, loc, ptx::kBulkWaitGroupRead0, "", {});
  inlineAsm(b, loc, ptx::kWarpSync, "", {});

  // Stage: each thread stores its registers at their (row, column) in the padded region.
  const auto& vals = e.regs(op.getValue());
  SmallVector<Value> tc = e.threadCoord(l);
  Value threadOffset = add(i32c(regionOffset), add(mul(tc[0], i32c(p.pitchBytes)), mul(tc[1], i32c(kF32Bytes))));
  int64_t vec = std::min<int64_t>(contiguityAlong(l, 1), kBulkAlignBytes / kF32Bytes);
  Type f32 = b.getF32Type();
  for (int64_t r = 0; r < l.numRegs(); r += vec) {
    Coord rc = l.regCoord(r);
    Value addr = e.smemAbsolute(add(threadOffset, i32c(rc[0] * p.pitchBytes + rc[1] * kF32Bytes)));
    Value v = vals[size_t(r)];
    if (vec > 1) {
      v = b.create<LLVM::PoisonOp>(loc, VectorType::get({vec}, f32));
      for (int64_t j = 0; j < vec; ++j) v = b.create<LLVM::InsertElementOp>(loc, v, vals[size_t(r + j)], e.i32(j));
    }
    b.create<LLVM::StoreOp>(loc, v, addr, unsigned(vec * kF32Bytes));
  }
  inlineAsm(b, loc, ptx::kFenceProxyAsyncShared, "", {});
  inlineAsm(b, loc, ptx::kWarpSync, "", {});

  // Issue: the warp's first lane adds every segment. The copy engine takes its operands from
  // uniform registers, so per-lane operands become a loop over the active lanes (one reduce a
  // turn, each waiting for the last: 19 % of the d=128 dK/dV program's stall samples on the
  // H100); one lane's segments are a straight run of reduces whose offsets from the warp's
  // first segment are constants. Columns past the tensor's extent are left out of the byte
  // count (a multiple of 16: the extent is a multiple of 4 here).
  SmallVector<Value> wc = e.warpCoord(l);
  Value base = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), ptr);
  auto i64 = [&](Value v) { return b.create<arith::ExtSIOp>(loc, b.getI64Type(), v).getResult(); };
  Value firstRow = add(offset0, wc[0]), firstCol = add(offset1, wc[1]);
  Value firstDst = b.create<arith::AddIOp>(
      loc, base,
      b.create<arith::MulIOp>(
          loc, b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, i64(firstRow), i64(stride0)), i64(firstCol)),
          e.i64(kF32Bytes)));
  Value firstSrc = add(i32c(regionOffset), add(mul(wc[0], i32c(p.pitchBytes)), mul(wc[1], i32c(kF32Bytes))));
  // Segments in row order; each row's address steps from the previous one's, so no per-row
  // offset is a loop invariant the compiler would keep in registers over the whole loop.
  std::vector<std::pair<int64_t, int64_t>> segs;  // (row, column) offsets from the first segment
  for (int64_t seg = 0; seg < p.segmentsPerWarp(); ++seg) {
    int64_t at[2] = {0, 0};
    for (size_t j = 0; j < p.segmentBases.size(); ++j)
      if (seg & (int64_t(1) << j)) at[p.segmentBases[j].first] |= p.segmentBases[j].second;
    segs.push_back({at[0], at[1]});
  }
  std::sort(segs.begin(), segs.end());
  Value rowBytes = b.create<arith::MulIOp>(loc, i64(stride0), e.i64(kF32Bytes));
  when(b, loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, e.lane(), i32c(0)), [&] {
    Value rowDst = firstDst;
    int64_t row = 0;
    for (auto [r, c] : segs) {
      if (r != row) rowDst = b.create<arith::AddIOp>(loc, rowDst, b.create<arith::MulIOp>(loc, rowBytes, e.i64(r - row)));
      row = r;
      Value colsLeft = b.create<arith::SubIOp>(loc, shape1, add(firstCol, i32c(c)));
      Value ok = b.create<arith::AndIOp>(
          loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, colsLeft, i32c(0)),
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, add(firstRow, i32c(r)), shape0));
      Value dst = b.create<arith::AddIOp>(loc, rowDst, e.i64(c * kF32Bytes));
      when(b, loc, ok, [&] {
        Value bytes = mul(b.create<arith::MinSIOp>(loc, colsLeft, i32c(p.segmentCols)), i32c(kF32Bytes));
        Value src = sharedAddress(e, loc, add(firstSrc, i32c(r * p.pitchBytes + c * kF32Bytes)));
        inlineAsm(b, loc, ptx::kBulkReduceAddF32, "l,r,r", {dst, src, bytes});
      });
    }
  });
  inlineAsm(b, loc, ptx::kBulkCommitGroup, "", {});
}

}  // namespace

LogicalResult emitBulkReduceAdd(KernelEmitter& e, ti::AtomicAddBlockOp op, int64_t regionOffset,
                                const std::function<LogicalResult()>& fallback) {
  auto type = op.getValue().getType();
  auto plan = planBulkReduce(type);
  auto access = blockAccess(e, op, type);
  if (!plan || failed(access)) return op->emitOpError("bulk reduce-add planned for a layout it does not fit");
  // Every row 16-byte aligned: the block access's test for 4-float vectors (base, row stride,
  // column offset and extent in whole 4-float units, unit column stride).
  Value ok = access->vectorOk(kBulkAlignBytes / kF32Bytes);
  LogicalResult result = success();
  ifElse(e.b, op.getLoc(), {}, ok,
         [&] {
           emitBulkPath(e, op, *plan, access->l, regionOffset);
           return SmallVector<Value>{};
         },
         [&] {
           result = fallback();
           return SmallVector<Value>{};
         });
  return result;
}

void emitBulkReduceDrain(KernelEmitter& e, Location loc) { inlineAsm(e.b, loc, ptx::kBulkWaitGroup0, "", {}); }

}  // namespace tile::lowering
