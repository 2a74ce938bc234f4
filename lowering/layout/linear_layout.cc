#include "lowering/layout/linear_layout.h"

#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "lowering/ir/TilegpuDialect.h"

namespace tile::lowering {
namespace {

// Collects bases for one layout; a base that falls outside the shape wraps to zero
// (replication) for lanes and warps and is dropped for registers.
struct Builder {
  LinearLayout out;
  explicit Builder(llvm::ArrayRef<int64_t> shape) { out.shape.assign(shape.begin(), shape.end()); }
  Coord base(int dim, int64_t v) const {
    Coord c(out.shape.size(), 0);
    if (dim >= 0 && v < out.shape[dim]) c[dim] = v;
    return c;
  }
  void addReg(int dim, int64_t v) {
    if (v < out.shape[dim]) out.reg.push_back(base(dim, v));
  }
  void addLane(int dim, int64_t v) { out.lane.push_back(base(dim, v)); }
  void addWarp(int dim, int64_t v) { out.warp.push_back(base(dim, v)); }
  // Repeats the pattern of extent `tile` along `dim` until it covers the shape.
  void repeat(int dim, int64_t tile) {
    for (int64_t v = tile; v < out.shape[dim]; v *= 2) out.reg.push_back(base(dim, v));
  }
};

bool isPow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

mlir::FailureOr<LinearLayout> fail(std::string* why, const std::string& msg) {
  if (why) *why = msg;
  return mlir::failure();
}

mlir::FailureOr<LinearLayout> blocked(gpu::BlockedAttr b, llvm::ArrayRef<int64_t> shape, std::string* why) {
  size_t rank = shape.size();
  if (b.getSizePerThread().size() != rank || b.getThreadsPerWarp().size() != rank ||
      b.getWarpsPerCTA().size() != rank || b.getOrder().size() != rank)
    return fail(why, "blocked layout rank differs from the tensor's");
  Builder bld(shape);
  auto order = b.getOrder();
  for (unsigned d : order)
    for (int64_t v = 1; v < b.getSizePerThread()[d]; v *= 2) bld.addReg(d, v);
  for (unsigned d : order)
    for (int64_t i = 1; i < b.getThreadsPerWarp()[d]; i *= 2) bld.addLane(d, b.getSizePerThread()[d] * i);
  for (unsigned d : order)
    for (int64_t i = 1; i < b.getWarpsPerCTA()[d]; i *= 2)
      bld.addWarp(d, int64_t(b.getSizePerThread()[d]) * b.getThreadsPerWarp()[d] * i);
  for (unsigned d : order)
    bld.repeat(d, int64_t(b.getSizePerThread()[d]) * b.getThreadsPerWarp()[d] * b.getWarpsPerCTA()[d]);
  if (bld.out.lane.size() != 5) return fail(why, "blocked layout: threadsPerWarp must multiply to 32");
  return bld.out;
}

// mma.sync m16n8k16 accumulator: see TilegpuOps.td.
mlir::FailureOr<LinearLayout> mma(gpu::MmaAttr m, llvm::ArrayRef<int64_t> shape, std::string* why) {
  if (shape.size() != 2 || m.getWarpsPerCTA().size() != 2) return fail(why, "mma layout needs a 2-D tensor");
  int64_t wm = m.getWarpsPerCTA()[0], wn = m.getWarpsPerCTA()[1];
  Builder bld(shape);
  bld.addReg(1, 1);
  bld.addReg(0, 8);
  bld.addLane(1, 2), bld.addLane(1, 4), bld.addLane(0, 1), bld.addLane(0, 2), bld.addLane(0, 4);
  for (int64_t i = 1; i < wm; i *= 2) bld.addWarp(0, 16 * i);
  if (m.getColumnBlocks()) {
    // (A tile of one column, a broadcast's source, replicates across the blocks.)
    int64_t block = std::max<int64_t>(shape[1] / wn, 1);
    for (int64_t i = 1; i < wn; i *= 2) bld.addWarp(1, block * i);
    for (int64_t v = 8; v < block; v *= 2) bld.addReg(1, v);
  } else {
    for (int64_t i = 1; i < wn; i *= 2) bld.addWarp(1, 8 * i);
    bld.repeat(1, 8 * wn);
  }
  bld.repeat(0, 16 * wm);
  return bld.out;
}

// mma.sync m16n8k16 operand fragments. A (MxK): a0a1 (g, 2t+{0,1}), a2a3 (g+8, ..),
// a4a5 (g, 2t+8+..), a6a7 (g+8, 2t+8+..). B (KxN): b0b1 (2t+{0,1}, g), b2b3 (2t+8+.., g);
// g = lane/4, t = lane%4. Warps of the other operand's dimension hold copies.
mlir::FailureOr<LinearLayout> dotOperand(gpu::DotOperandAttr d, llvm::ArrayRef<int64_t> shape, std::string* why) {
  auto parent = llvm::dyn_cast<gpu::MmaAttr>(d.getParent());
  if (!parent || shape.size() != 2) return fail(why, "dot_op layout needs an mma parent and a 2-D tensor");
  int64_t wm = parent.getWarpsPerCTA()[0], wn = parent.getWarpsPerCTA()[1];
  Builder bld(shape);
  if (d.getOpIdx() == 0) {
    bld.addReg(1, 1), bld.addReg(0, 8), bld.addReg(1, 8);
    bld.addLane(1, 2), bld.addLane(1, 4), bld.addLane(0, 1), bld.addLane(0, 2), bld.addLane(0, 4);
    for (int64_t i = 1; i < wm; i *= 2) bld.addWarp(0, 16 * i);
    for (int64_t i = 1; i < wn; i *= 2) bld.addWarp(-1, 0);
    bld.repeat(1, 16);
    bld.repeat(0, 16 * wm);
  } else {
    bld.addReg(0, 1), bld.addReg(0, 8);
    bld.addLane(0, 2), bld.addLane(0, 4), bld.addLane(1, 1), bld.addLane(1, 2), bld.addLane(1, 4);
    for (int64_t i = 1; i < wm; i *= 2) bld.addWarp(-1, 0);
    if (parent.getColumnBlocks()) {
      // (A tile of one column, a broadcast's source, replicates across the blocks.)
      int64_t block = std::max<int64_t>(shape[1] / wn, 1);
      for (int64_t i = 1; i < wn; i *= 2) bld.addWarp(1, block * i);
      bld.repeat(0, 16);
      for (int64_t v = 8; v < block; v *= 2) bld.addReg(1, v);
    } else {
      for (int64_t i = 1; i < wn; i *= 2) bld.addWarp(1, 8 * i);
      bld.repeat(0, 16);
      bld.repeat(1, 8 * wn);
    }
  }
  return bld.out;
}

mlir::FailureOr<LinearLayout> slice(gpu::SliceAttr s, llvm::ArrayRef<int64_t> shape, std::string* why) {
  llvm::SmallVector<int64_t, 4> parentShape(shape.begin(), shape.end());
  unsigned dim = s.getDim();
  if (dim > parentShape.size()) return fail(why, "slice dim out of range");
  parentShape.insert(parentShape.begin() + dim, 1);
  auto parent = layoutOf(s.getParent(), parentShape, why);
  if (mlir::failed(parent)) return parent;
  LinearLayout out;
  out.shape.assign(shape.begin(), shape.end());
  auto drop = [&](const Coord& c) {
    Coord r(c);
    r.erase(r.begin() + dim);
    return r;
  };
  for (auto& b : parent->reg) {
    Coord r = drop(b);
    if (llvm::any_of(r, [](int64_t v) { return v != 0; })) out.reg.push_back(r);
  }
  for (auto& b : parent->lane) out.lane.push_back(drop(b));
  for (auto& b : parent->warp) out.warp.push_back(drop(b));
  return out;
}

mlir::FailureOr<LinearLayout> transposedLayout(gpu::TransposedAttr t, llvm::ArrayRef<int64_t> shape, std::string* why) {
  if (shape.size() != 2) return fail(why, "transposed layout needs a 2-D tensor");
  auto parent = layoutOf(t.getParent(), {shape[1], shape[0]}, why);
  if (mlir::failed(parent)) return parent;
  LinearLayout out;
  out.shape.assign(shape.begin(), shape.end());
  auto swap = [](const Coord& c) { return Coord{c[1], c[0]}; };
  for (auto& b : parent->reg) out.reg.push_back(swap(b));
  for (auto& b : parent->lane) out.lane.push_back(swap(b));
  for (auto& b : parent->warp) out.warp.push_back(swap(b));
  return out;
}

}  // namespace

Coord LinearLayout::regCoord(int64_t r) const {
  Coord c(shape.size(), 0);
  for (size_t b = 0; b < reg.size(); ++b)
    if (r & (int64_t(1) << b))
      for (size_t d = 0; d < c.size(); ++d) c[d] ^= reg[b][d];
  return c;
}

int64_t LinearLayout::regAt(llvm::ArrayRef<int64_t> c) const {
  // Bases are distinct single-dimension powers of two: decompose bit by bit.
  Coord rest(c.begin(), c.end());
  int64_t r = 0;
  for (size_t b = 0; b < reg.size(); ++b) {
    auto [d, v] = baseDim(reg[b]);
    if (d >= 0 && (rest[d] & v)) {
      rest[d] &= ~v;
      r |= int64_t(1) << b;
    }
  }
  return llvm::all_of(rest, [](int64_t v) { return v == 0; }) ? r : -1;
}

std::string LinearLayout::str() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  auto list = [&](const char* name, const std::vector<Coord>& bases) {
    os << name << "[";
    for (auto& b : bases) {
      os << "(";
      llvm::interleaveComma(b, os);
      os << ")";
    }
    os << "] ";
  };
  list("reg", reg);
  list("lane", lane);
  list("warp", warp);
  return s;
}

std::pair<int, int64_t> baseDim(const Coord& base) {
  for (size_t d = 0; d < base.size(); ++d)
    if (base[d] != 0) return {int(d), base[d]};
  return {-1, 0};
}

int64_t contiguityAlong(const LinearLayout& l, int dim) {
  int64_t n = 1;
  for (auto& b : l.reg) {
    auto [d, v] = baseDim(b);
    if (d != dim || v != n) break;
    n *= 2;
  }
  return n;
}

mlir::FailureOr<LinearLayout> layoutOf(mlir::Attribute enc, llvm::ArrayRef<int64_t> shape, std::string* why) {
  for (int64_t s : shape)
    if (!isPow2(s)) return fail(why, "tile dimensions must be powers of two for the GPU lowering");
  mlir::FailureOr<LinearLayout> l = mlir::failure();
  if (auto b = llvm::dyn_cast_or_null<gpu::BlockedAttr>(enc)) l = blocked(b, shape, why);
  else if (auto m = llvm::dyn_cast_or_null<gpu::MmaAttr>(enc)) l = mma(m, shape, why);
  else if (auto d = llvm::dyn_cast_or_null<gpu::DotOperandAttr>(enc)) l = dotOperand(d, shape, why);
  else if (auto s = llvm::dyn_cast_or_null<gpu::SliceAttr>(enc)) l = slice(s, shape, why);
  else if (auto t = llvm::dyn_cast_or_null<gpu::TransposedAttr>(enc)) l = transposedLayout(t, shape, why);
  else return fail(why, "tensor has no tilegpu layout encoding");
  if (mlir::succeeded(l))
    for (auto* bases : {&l->reg, &l->lane, &l->warp})
      for (auto& b : *bases) {
        int nonzero = llvm::count_if(b, [](int64_t v) { return v != 0; });
        if (nonzero > 1 || (nonzero == 1 && !isPow2(baseDim(b).second)))
          return fail(why, "layout base is not a single power of two");
      }
  return l;
}

mlir::FailureOr<LinearLayout> layoutOf(mlir::RankedTensorType type, std::string* why) {
  return layoutOf(type.getEncoding(), type.getShape(), why);
}

}  // namespace tile::lowering
