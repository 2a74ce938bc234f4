// Reductions along one axis: within a thread, then butterfly shuffles across the lanes that
// hold different elements of a row, then through shared memory across warps. Bits of the
// layout that replicate data (zero bases) are skipped, so sums never count a copy twice.
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/passes/kernel_emitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
namespace tg = tile::gpu;

namespace tile::lowering {

LogicalResult emitReduce(KernelEmitter& e, Operation* op) {
  auto red = cast<tg::ReduceOp>(op);
  OpBuilder& b = e.b;
  Location loc = op->getLoc();
  auto st = red.getSrc().getType();
  std::string why;
  auto sl = layoutOf(st, &why);
  if (failed(sl)) return op->emitOpError(why);
  int axis = int(red.getAxis());
  StringRef kind = red.getKind();
  Type elem = st.getElementType();
  bool isFloat = isa<FloatType>(elem);
  auto combine = [&](Value x, Value y) -> Value {
    if (isFloat) {
      if (kind == "max") return b.create<arith::MaximumFOp>(loc, x, y);
      if (kind == "min") return b.create<arith::MinimumFOp>(loc, x, y);
      return b.create<arith::AddFOp>(loc, x, y);
    }
    if (kind == "max") return b.create<arith::MaxSIOp>(loc, x, y);
    if (kind == "min") return b.create<arith::MinSIOp>(loc, x, y);
    return b.create<arith::AddIOp>(loc, x, y);
  };

  // 1. Inside the thread: registers that differ only along the axis.
  auto& in = e.regs(red.getSrc());
  std::map<Coord, Value> part;
  for (int64_t r = 0; r < sl->numRegs(); ++r) {
    Coord key = sl->regCoord(r);
    key[axis] = 0;
    auto it = part.find(key);
    part[key] = it == part.end() ? in[r] : combine(it->second, in[r]);
  }
  // 2. Across lanes.
  for (size_t bit = 0; bit < sl->lane.size(); ++bit) {
    if (baseDim(sl->lane[bit]).first != axis) continue;
    if (elem.getIntOrFloatBitWidth() != 32) return op->emitOpError("reduce across lanes needs 32-bit elements");
    for (auto& [key, v] : part) {
      auto shfl = b.create<mlir::gpu::ShuffleOp>(loc, v, e.i32(int64_t(1) << bit), e.i32(32), mlir::gpu::ShuffleMode::XOR);
      v = combine(v, shfl.getShuffleResult());
    }
  }
  // 3. Across warps, through shared memory laid out [axis warp][row].
  SmallVector<int> axisWarpBits;
  for (size_t bit = 0; bit < sl->warp.size(); ++bit)
    if (baseDim(sl->warp[bit]).first == axis) axisWarpBits.push_back(int(bit));
  if (!axisWarpBits.empty()) {
    int64_t rows = 1;
    SmallVector<int64_t> rowStride(st.getRank(), 0);
    for (int d = int(st.getRank()) - 1; d >= 0; --d)
      if (d != axis) rowStride[d] = rows, rows *= st.getDimSize(d);
    int64_t nWarps = int64_t(1) << axisWarpBits.size();
    int64_t bytes = elem.getIntOrFloatBitWidth() / 8;
    e.useSmem(nWarps * rows * bytes);
    Value w = e.warp(), widx = e.i32(0);
    for (auto [k, bit] : llvm::enumerate(axisWarpBits)) {
      Value one = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, w, e.i32(bit)), e.i32(1));
      widx = b.create<arith::OrIOp>(loc, widx, b.create<arith::ShLIOp>(loc, one, e.i32(int64_t(k))));
    }
    SmallVector<Value> tc = e.threadCoord(*sl);
    auto rowOf = [&](const Coord& key) {
      Value lin = e.i32(0);
      for (int d = 0; d < st.getRank(); ++d) {
        if (d == axis) continue;
        Value c = b.create<arith::OrIOp>(loc, tc[d], e.i32(key[d]));
        lin = b.create<arith::AddIOp>(loc, lin, b.create<arith::MulIOp>(loc, c, e.i32(rowStride[d])));
      }
      return lin;
    };
    auto addr = [&](Value warpIdx, Value row) {
      Value idx = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, warpIdx, e.i32(rows)), row);
      return e.smemAt(b.create<arith::MulIOp>(loc, idx, e.i32(bytes)));
    };
    b.create<mlir::gpu::BarrierOp>(loc);
    for (auto& [key, v] : part) b.create<LLVM::StoreOp>(loc, v, addr(widx, rowOf(key)), unsigned(bytes));
    b.create<mlir::gpu::BarrierOp>(loc);
    for (auto& [key, v] : part) {
      Value row = rowOf(key);
      v = b.create<LLVM::LoadOp>(loc, elem, addr(e.i32(0), row), unsigned(bytes));
      for (int64_t k = 1; k < nWarps; ++k)
        v = combine(v, b.create<LLVM::LoadOp>(loc, elem, addr(e.i32(k), row), unsigned(bytes)));
    }
  }
  // 4. Result registers in the slice layout.
  if (st.getRank() == 1) {
    e.setRegs(red.getResult(), {part.begin()->second});
    return success();
  }
  auto dl = layoutOf(cast<RankedTensorType>(red.getResult().getType()), &why);
  if (failed(dl)) return op->emitOpError(why);
  SmallVector<Value> out;
  for (int64_t r = 0; r < dl->numRegs(); ++r) {
    Coord key = dl->regCoord(r);
    key.insert(key.begin() + axis, 0);
    auto it = part.find(key);
    if (it == part.end()) return op->emitOpError("reduce: result layout is not the slice of the source layout");
    out.push_back(it->second);
  }
  e.setRegs(red.getResult(), out);
  return success();
}

}  // namespace tile::lowering
