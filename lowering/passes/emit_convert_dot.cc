// Layout conversions and tensor-core dots.
//
// convert_layout: a pure register renaming when both layouts put the same elements in the same
// thread (e.g. an mma accumulator reused as the A operand of the next mma); otherwise through
// shared memory: every thread stores its elements (16-byte vectors along the contiguous
// dimension, rows padded by 16 bytes against bank conflicts), a barrier, then every thread
// loads what the destination layout gives it, with ldmatrix (.trans when the tile is stored
// the other way round) for mma.sync operand fragments.
// dot: wgmma where it applies (emit_wgmma.cc), else mma.sync.aligned.m16n8k16 (bf16/f16 in,
// f32 accumulate) over the fragments.
#include "dsl/ir/TileDialect.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/smem_tile.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
namespace tg = tile::gpu;
namespace ti = tile::ir;

namespace tile::lowering {
namespace {

Value vectorOf(OpBuilder& b, Location loc, ArrayRef<Value> vals, KernelEmitter& e) {
  if (vals.size() == 1) return vals[0];
  Value v = b.create<LLVM::PoisonOp>(loc, VectorType::get({int64_t(vals.size())}, vals[0].getType()));
  for (size_t j = 0; j < vals.size(); ++j) v = b.create<LLVM::InsertElementOp>(loc, v, vals[j], e.i32(int64_t(j)));
  return v;
}

// Stores (or loads) every register of layout `l` to (from) the shared tile, in vectors of the
// contiguous run each thread owns along the fast dimension.
void storeTile(KernelEmitter& e, Location loc, const LinearLayout& l, const SmemTile& t, ArrayRef<Value> regs) {
  int64_t vec = std::min<int64_t>(contiguityAlong(l, t.fast), 16 / t.eb);
  for (int64_t r = 0; r < l.numRegs(); r += vec) {
    Value addr = t.address(e, loc, e.elemCoord(l, r));
    e.b.create<LLVM::StoreOp>(loc, vectorOf(e.b, loc, regs.slice(r, vec), e), addr, unsigned(vec * t.eb));
  }
}


// mma.sync operand fragments from the shared tile with ldmatrix. Each ldmatrix moves `num`
// 8x8 matrices; matrix j starts at logical offset ((j&1)*8, (j>>1)*8) from the fragment origin
// and lane i gives the address of row i%8 of matrix (i/8)%num along the slow dimension.
}  // namespace

SmallVector<Value> loadTile(KernelEmitter& e, Location loc, const LinearLayout& l, const SmemTile& t, Type elem) {
  int64_t vec = std::min<int64_t>(contiguityAlong(l, t.fast), 16 / t.eb);
  SmallVector<Value> out;
  for (int64_t r = 0; r < l.numRegs(); r += vec) {
    Value addr = t.address(e, loc, e.elemCoord(l, r));
    if (vec == 1) {
      out.push_back(e.b.create<LLVM::LoadOp>(loc, elem, addr, t.eb));
      continue;
    }
    Value v = e.b.create<LLVM::LoadOp>(loc, VectorType::get({vec}, elem), addr, unsigned(vec * t.eb));
    for (int64_t j = 0; j < vec; ++j) out.push_back(e.b.create<LLVM::ExtractElementOp>(loc, v, e.i32(j)));
  }
  return out;
}

LogicalResult loadFragments(KernelEmitter& e, Operation* op, const LinearLayout& dl, unsigned opIdx,
                            const SmemTile& t, Type elem, SmallVector<Value>& out, int64_t kSlab) {
  OpBuilder& b = e.b;
  Location loc = op->getLoc();
  // The k dimension of the fragment is where a thread's two packed elements sit.
  int kDim = opIdx == 0 ? 1 : 0;
  bool trans = t.fast != kDim;
  SmallVector<Value> wc = e.warpCoord(dl);
  Value ln = e.lane();
  out.assign(size_t(dl.numRegs()), Value());
  auto emitGroup = [&](const Coord& origin, int num) {
    Value j = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, ln, e.i32(3)), e.i32(num - 1));
    Value rowIn = b.create<arith::AndIOp>(loc, ln, e.i32(7));
    SmallVector<Value> c(2);
    Value d[2] = {b.create<arith::ShLIOp>(loc, b.create<arith::AndIOp>(loc, j, e.i32(1)), e.i32(3)),
                  b.create<arith::ShLIOp>(loc, b.create<arith::ShRUIOp>(loc, j, e.i32(1)), e.i32(3))};
    for (int dim = 0; dim < 2; ++dim) {
      Value v = b.create<arith::AddIOp>(loc, wc[dim], e.i32(origin[dim]));
      v = b.create<arith::AddIOp>(loc, v, d[dim]);
      if (dim == t.slow()) v = b.create<arith::AddIOp>(loc, v, rowIn);
      c[dim] = v;
    }
    Value addr = t.address(e, loc, c);
    SmallVector<Type> words(size_t(num), b.getI32Type());
    Type resTy = LLVM::LLVMStructType::getLiteral(b.getContext(), words);
    Value res = b.create<NVVM::LdMatrixOp>(loc, resTy, addr, uint32_t(num),
                                           trans ? NVVM::MMALayout::col : NVVM::MMALayout::row,
                                           NVVM::LdStMatrixShapeAttr::get(b.getContext(), 8, 8),
                                           NVVM::LdStMatrixEltType::B16);
    for (int m = 0; m < num; ++m) {
      Value word = b.create<LLVM::ExtractValueOp>(loc, res, ArrayRef<int64_t>{m});
      Value pair = b.create<LLVM::BitcastOp>(loc, VectorType::get({2}, elem), word);
      for (int h = 0; h < 2; ++h) {
        Coord rc{origin[0] + (m & 1) * 8, origin[1] + (m >> 1) * 8};
        rc[kDim] += h;
        int64_t r = dl.regAt(rc);
        if (r < 0) return false;
        out[r] = b.create<LLVM::ExtractElementOp>(loc, pair, e.i32(h));
      }
    }
    return true;
  };
  for (int64_t r = 0; r < dl.numRegs(); ++r) {
    Coord o = dl.regCoord(r);
    if (kSlab >= 0 && o[kDim] != kSlab) continue;
    if (opIdx == 0 && o[0] % 16 == 0 && o[1] % 16 == 0) {
      if (!emitGroup(o, 4)) return op->emitOpError("convert_layout: A fragment registers missing");
    } else if (opIdx == 1 && o[0] % 16 == 0 && o[1] % 16 == 0) {
      // Two n8 fragments at once when this thread owns both.
      bool both = dl.regAt(Coord{o[0], o[1] + 8}) >= 0;
      if (!emitGroup(o, both ? 4 : 2)) return op->emitOpError("convert_layout: B fragment registers missing");
    } else if (opIdx == 1 && o[0] % 16 == 0 && o[1] % 16 == 8 && dl.regAt(Coord{o[0], o[1] - 8}) < 0) {
      if (!emitGroup(o, 2)) return op->emitOpError("convert_layout: B fragment registers missing");
    }
  }
  for (int64_t r = 0; r < dl.numRegs(); ++r)
    if (!out[r] && (kSlab < 0 || dl.regCoord(r)[kDim] / 16 * 16 == kSlab))
      return op->emitOpError("convert_layout: fragment registers not all loaded");
  return success();
}

// The shared tile a conversion stages its source in: contiguous along the source's fastest
// register dimension, so every thread stores whole vectors.
SmemTile stagingTile(RankedTensorType st, const LinearLayout& sl) {
  int fast = sl.reg.empty() || baseDim(sl.reg[0]).first < 0 ? int(st.getRank()) - 1 : baseDim(sl.reg[0]).first;
  return SmemTile(st.getShape(), fast, st.getElementType().getIntOrFloatBitWidth() / 8, /*allowSwizzle=*/true);
}

Value stagedSource(Operation* convert) {
  Value src = convert->getOperand(0);
  if (auto tr = src.getDefiningOp<ti::TransOp>()) return tr.getSrc();
  return src;
}

namespace {

bool throughTrans(Operation* convert) { return bool(convert->getOperand(0).getDefiningOp<ti::TransOp>()); }

// The staging tile `owner` stores, seen from `convert`'s source: the same bytes, transposed
// when exactly one of the two converts a trans (a tile [R, C] contiguous along C is the tile
// [C, R] contiguous along its first dimension).
std::optional<SmemTile> stagingView(Operation* owner, Operation* convert) {
  auto st = cast<RankedTensorType>(owner->getOperand(0).getType());
  auto sl = layoutOf(st);
  if (failed(sl)) return std::nullopt;
  SmemTile t = stagingTile(st, *sl);
  if (throughTrans(owner) == throughTrans(convert)) return t;
  if (st.getRank() != 2) return std::nullopt;
  SmemTile v({st.getDimSize(1), st.getDimSize(0)}, 1 - t.fast, t.eb, /*allowSwizzle=*/true);
  if (v.swizzled != t.swizzled || v.bytes != t.bytes) return std::nullopt;
  return v;
}

}  // namespace

bool stagingSharable(Operation* owner, Operation* convert) {
  return stagedSource(owner) == stagedSource(convert) && stagingView(owner, convert).has_value();
}

int64_t deferredStagingBytes(Operation* op) {
  auto cv = dyn_cast<tg::ConvertLayoutOp>(op);
  if (!cv) return 0;
  auto st = cv.getSrc().getType(), dt = cv.getResult().getType();
  if (!isa<tg::DotOperandAttr>(dt.getEncoding()) || st.getElementType().getIntOrFloatBitWidth() != 16 || st.getRank() != 2)
    return 0;
  auto sl = layoutOf(st), dl = layoutOf(dt);
  if (failed(sl) || failed(dl)) return 0;
  if (sl->sameThreadBases(*dl)) {  // a register renaming: nothing to stage
    bool renaming = true;
    for (int64_t r = 0; r < dl->numRegs() && renaming; ++r) renaming = sl->regAt(dl->regCoord(r)) >= 0;
    if (renaming) return 0;
  }
  SmemTile tile = stagingTile(st, *sl);
  Value res = cv.getResult();
  Operation* user = res.hasOneUse() ? *res.getUsers().begin() : nullptr;
  bool nextToDot = user && isa<ti::DotOp>(user) && user->getBlock() == op->getBlock();
  if (!nextToDot) {
    // Otherwise only the A operand of wgmma dots elsewhere (Q of the attention forward, K and V
    // of its backward, converted once before the loop): left in shared memory it is read
    // through a descriptor every iteration instead of holding 32-64 registers per thread for
    // the whole loop.
    if (cast<tg::DotOperandAttr>(dt.getEncoding()).getOpIdx() != 0 || !tile.swizzled || res.use_empty()) return 0;
    for (Operation* u : res.getUsers()) {
      auto dot = dyn_cast<ti::DotOp>(u);
      unsigned warps = 0;
      if (!dot || dot.getB() == res || !wgmmaDot(dot, warps)) return 0;
    }
  }
  return int64_t(llvm::alignTo(uint64_t(tile.bytes), kSmemOperandAlign));
}

LogicalResult emitConvertLayout(KernelEmitter& e, Operation* op) {
  auto cv = cast<tg::ConvertLayoutOp>(op);
  Location loc = op->getLoc();
  auto st = cv.getSrc().getType(), dt = cv.getResult().getType();
  std::string why;
  auto sl = layoutOf(st, &why);
  auto dl = layoutOf(dt, &why);
  if (failed(sl) || failed(dl)) return op->emitOpError(why);
  // Staged before its loop already (KernelEmitter::emitFor): nothing to do per iteration.
  if (e.hoistedStaging.count(op) && e.deferredFragments.count(cv.getResult().getAsOpaquePointer())) return success();
  if (e.stagingAlias.count(op)) {
    // Another conversion stored this tile, in a region that lives over this loop: read its bytes.
    auto it = e.deferredOffset.find(op);
    auto dot = cast<tg::DotOperandAttr>(dt.getEncoding());
    SmemTile tile = *stagingView(e.stagingAlias.lookup(op), op);
    tile.slotBase = e.i32(it->second);
    e.deferredFragments[cv.getResult().getAsOpaquePointer()] =
        std::make_shared<DeferredFragments>(DeferredFragments{tile, *dl, dot.getOpIdx(), st.getElementType(), op});
    e.setRegs(cv.getResult(), {});
    return success();
  }
  auto& in = e.regs(cv.getSrc());
  // Same elements in the same threads: rename registers.
  if (sl->sameThreadBases(*dl)) {
    SmallVector<Value> out;
    for (int64_t r = 0; r < dl->numRegs(); ++r) {
      int64_t s = sl->regAt(dl->regCoord(r));
      if (s < 0) break;
      out.push_back(in[s]);
    }
    if (int64_t(out.size()) == dl->numRegs()) {
      e.setRegs(cv.getResult(), out);
      return success();
    }
  }
  Type elem = st.getElementType();
  unsigned bits = elem.getIntOrFloatBitWidth();
  // A software-pipelined operand already sits in shared memory (emit_pipeline.cc); the dot
  // reads its fragments one k-step at a time.
  if (auto slot = e.pipelinedSource(op)) {
    auto dot = cast<tg::DotOperandAttr>(dt.getEncoding());
    e.deferredFragments[cv.getResult().getAsOpaquePointer()] =
        std::make_shared<DeferredFragments>(DeferredFragments{*slot, *dl, dot.getOpIdx(), elem, op});
    e.setRegs(cv.getResult(), {});
    return success();
  }
  // An operand staged for the dot right after it: stored in its own shared-memory region, the
  // dot reads fragments per k-step (fewer live registers than loading the whole tile).
  if (auto it = e.deferredOffset.find(op); it != e.deferredOffset.end()) {
    auto dot = cast<tg::DotOperandAttr>(dt.getEncoding());
    SmemTile tile = stagingTile(st, *sl);
    tile.slotBase = e.i32(it->second);
    e.b.create<mlir::gpu::BarrierOp>(loc);
    storeTile(e, loc, *sl, tile, in);
    if (tile.swizzled) emitAsyncProxyFence(e.b, loc);  // the dot may read it with wgmma
    e.b.create<mlir::gpu::BarrierOp>(loc);
    e.deferredFragments[cv.getResult().getAsOpaquePointer()] =
        std::make_shared<DeferredFragments>(DeferredFragments{tile, *dl, dot.getOpIdx(), elem, op});
    e.setRegs(cv.getResult(), {});
    return success();
  }
  // Masks travel as bytes.
  SmallVector<Value> widened;
  if (bits == 1) {
    for (Value v : in) widened.push_back(e.b.create<arith::ExtUIOp>(loc, e.b.getI8Type(), v));
    bits = 8;
  }
  ArrayRef<Value> src = widened.empty() ? ArrayRef<Value>(in) : ArrayRef<Value>(widened);
  Type memElem = bits == 8 ? e.b.getI8Type() : elem;
  if (st.getRank() > 2 || (bits != 8 && bits != 16 && bits != 32))
    return op->emitOpError("convert_layout through shared memory supports 1-D/2-D tiles of 1/8/16/32-bit elements");
  int fast = sl->reg.empty() || baseDim(sl->reg[0]).first < 0 ? int(st.getRank()) - 1 : baseDim(sl->reg[0]).first;
  SmemTile tile(st.getShape(), fast, bits / 8);
  e.useSmem(tile.bytes);
  e.b.create<mlir::gpu::BarrierOp>(loc);
  storeTile(e, loc, *sl, tile, src);
  e.b.create<mlir::gpu::BarrierOp>(loc);
  auto dot = dyn_cast<tg::DotOperandAttr>(dt.getEncoding());
  if (dot && bits == 16) {
    SmallVector<Value> out;
    if (failed(loadFragments(e, op, *dl, dot.getOpIdx(), tile, elem, out, -1))) return failure();
    e.setRegs(cv.getResult(), out);
  } else {
    SmallVector<Value> out = loadTile(e, loc, *dl, tile, memElem);
    if (!widened.empty())
      for (Value& v : out) v = e.b.create<arith::TruncIOp>(loc, elem, v);
    e.setRegs(cv.getResult(), out);
  }
  return success();
}

LogicalResult emitDot(KernelEmitter& e, Operation* op) {
  bool hopper = false;
  if (failed(emitWgmmaDot(e, op, hopper))) return failure();
  if (hopper) return success();
  auto dot = cast<ti::DotOp>(op);
  OpBuilder& b = e.b;
  Location loc = op->getLoc();
  auto at = dot.getA().getType(), bt = dot.getB().getType(), ct = dot.getAcc().getType();
  Type elem = at.getElementType();
  if (!elem.isBF16() && !elem.isF16())
    return op->emitOpError("dot on tensor cores needs bf16 or f16 operands, got ") << elem;
  int64_t M = ct.getDimSize(0), N = ct.getDimSize(1), K = at.getDimSize(1);
  if (M % 16 || N % 8 || K % 16)
    return op->emitOpError("dot: mma.sync m16n8k16 needs M % 16 == 0, N % 8 == 0, K % 16 == 0, got ")
           << M << "x" << N << "x" << K;
  std::string why;
  auto al = layoutOf(at, &why), bl = layoutOf(bt, &why), cl = layoutOf(ct, &why);
  if (failed(al) || failed(bl) || failed(cl)) return op->emitOpError(why);
  if (!isa<tg::MmaAttr>(ct.getEncoding()) || !isa<tg::DotOperandAttr>(at.getEncoding()) ||
      !isa<tg::DotOperandAttr>(bt.getEncoding()))
    return op->emitOpError("dot: operands must be in dot_op layouts and the accumulator in an mma layout");
  SmallVector<Value> A(e.regs(dot.getA())), B(e.regs(dot.getB()));
  SmallVector<Value> C(e.regs(dot.getAcc()));
  auto deferredA = e.deferredFragments.find(dot.getA().getAsOpaquePointer());
  auto deferredB = e.deferredFragments.find(dot.getB().getAsOpaquePointer());
  // Fragments of one k-step of a deferred operand, right before its mma's.
  auto loadSlab = [&](auto it, SmallVector<Value>& regs, int64_t k0) {
    if (it == e.deferredFragments.end()) return success();
    auto& d = *it->second;
    return loadFragments(e, d.convert, d.layout, d.opIdx, d.tile, d.elem, regs, k0);
  };
  bool bf16 = elem.isBF16();
  auto ptxType = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Type f32 = b.getF32Type();
  Type resTy = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  auto reg = [&](const LinearLayout& l, int64_t r0, int64_t r1) { return l.regAt(Coord{r0, r1}); };
  for (int64_t k0 = 0; k0 < K; k0 += 16) {
    if (failed(loadSlab(deferredA, A, k0)) || failed(loadSlab(deferredB, B, k0))) return failure();
    for (int64_t r = 0; r < cl->numRegs(); ++r) {
      Coord o = cl->regCoord(r);
      if (o[0] % 16 || o[1] % 8) continue;
      int64_t m0 = o[0], n0 = o[1];
      int64_t cIdx[4] = {reg(*cl, m0, n0), reg(*cl, m0, n0 + 1), reg(*cl, m0 + 8, n0), reg(*cl, m0 + 8, n0 + 1)};
      SmallVector<Value> aOps, bOps, cOps;
      for (int p = 0; p < 4; ++p) {
        int64_t m = m0 + 8 * (p & 1), k = k0 + 8 * (p >> 1);
        int64_t lo = reg(*al, m, k), hi = reg(*al, m, k + 1);
        if (lo < 0 || hi < 0) return op->emitOpError("dot: A fragment layout mismatch");
        aOps.push_back(packPair(b, loc, A[lo], A[hi], bf16));
      }
      for (int p = 0; p < 2; ++p) {
        int64_t lo = reg(*bl, k0 + 8 * p, n0), hi = reg(*bl, k0 + 8 * p + 1, n0);
        if (lo < 0 || hi < 0) return op->emitOpError("dot: B fragment layout mismatch");
        bOps.push_back(packPair(b, loc, B[lo], B[hi], bf16));
      }
      for (int q = 0; q < 4; ++q) {
        if (cIdx[q] < 0) return op->emitOpError("dot: accumulator layout mismatch");
        cOps.push_back(C[cIdx[q]]);
      }
      Value d = b.create<NVVM::MmaOp>(loc, resTy, aOps, bOps, cOps, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
                                      std::nullopt, std::array<NVVM::MMATypes, 2>{ptxType, ptxType},
                                      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
      for (int q = 0; q < 4; ++q) C[cIdx[q]] = b.create<LLVM::ExtractValueOp>(loc, d, ArrayRef<int64_t>{q});
    }
  }
  e.setRegs(dot.getResult(), C);
  return success();
}

}  // namespace tile::lowering
