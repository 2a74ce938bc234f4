// Hopper tensor-core dots: wgmma.mma_async (sm_90a) with B, and A when it can be, read from
// shared memory through matrix descriptors.
//
// When it applies: the accumulator is an mma layout with a multiple of 4 warps along M, M a
// multiple of 16 rows per such warp, and any warps along N in contiguous column blocks
// (columnBlocks). Then every 4 consecutive warps (a warpgroup) own 64 consecutive rows of one
// column block, and inside a warp the mma.sync m16n8 accumulator and A fragments are exactly
// wgmma's m64nN fragments, so the layout layer needs nothing new: each warpgroup issues one
// m64nNk16 per k-step (and per 64-row block it owns) over its column block. B must sit in shared memory
// in the 128-byte-swizzled arrangement (SmemTile::swizzled: pipeline buffers and staging
// regions); A is used from registers (Q, P in attention) or from such a tile (GEMMs).
//
// The wgmma's are asynchronous: wgmma.fence, the k-steps, commit, then wait for completion.
// Fence and wait are inline asm that take and give back the accumulator registers, so no
// instruction can read (or write) them between the first wgmma and the wait.
#include "dsl/ir/TileDialect.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/layout/default_layouts.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/smem_tile.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
namespace tg = tile::gpu;
namespace ti = tile::ir;

namespace tile::lowering {

void emitAsyncProxyFence(OpBuilder& b, Location loc) {
  b.create<NVVM::FenceProxyOp>(loc, NVVM::ProxyKind::async_shared,
                               NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

namespace {

constexpr int64_t kMaxWgmmaN = 256;

// Values through an inline asm that ties each to itself: `text` runs "on" them, so the
// compiler can move no computation of them below it nor any use above it.
SmallVector<Value> tiedAsm(OpBuilder& b, Location loc, StringRef text, ArrayRef<Value> vals) {
  std::string constraints;
  SmallVector<Type> types;
  for (size_t i = 0; i < vals.size(); ++i) {
    constraints += (i ? ",=" : "=") + std::string(vals[i].getType().isF32() ? "f" : "r");
    types.push_back(vals[i].getType());
  }
  for (size_t i = 0; i < vals.size(); ++i) constraints += "," + std::to_string(i);
  Type resTy = vals.size() == 1 ? types[0] : LLVM::LLVMStructType::getLiteral(b.getContext(), types);
  auto op = b.create<LLVM::InlineAsmOp>(loc, resTy, vals, text, constraints, /*has_side_effects=*/true,
                                        /*is_align_stack=*/false, LLVM::TailCallKind::None, LLVM::AsmDialectAttr(),
                                        ArrayAttr());
  if (vals.size() == 1) return {op.getResult(0)};
  SmallVector<Value> out;
  for (size_t i = 0; i < vals.size(); ++i)
    out.push_back(b.create<LLVM::ExtractValueOp>(loc, op.getResult(0), ArrayRef<int64_t>{int64_t(i)}));
  return out;
}

// Shared-memory matrix descriptor of a 128B-swizzled tile, for the given byte offset into it.
// Bits: start address >> 4 (0-13), leading byte offset >> 4 (16-29), stride byte offset >> 4
// (32-45), swizzle mode 1 = 128B (62-63). The start address of a k-step may move inside a
// swizzle atom: the hardware applies the XOR to the final address bits, so the atom (region
// base) must be 1024-byte aligned, which the buffers are.
Value tileDescriptor(KernelEmitter& e, Location loc, const SmemTile& t, int64_t leadingBytes) {
  OpBuilder& b = e.b;
  Value addr = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), e.smemAbsolute(t.slotBase));
  Value start = b.create<arith::AndIOp>(loc, b.create<arith::ShRUIOp>(loc, addr, e.i64(4)), e.i64(0x3FFF));
  int64_t fixed = ((leadingBytes >> 4) & 0x3FFF) << 16 | int64_t((1024 >> 4) & 0x3FFF) << 32 | int64_t(1) << 62;
  return b.create<arith::OrIOp>(loc, start, e.i64(fixed));
}

// Byte offset, inside swizzled tile `t`, of the 16-element k-step at `k0` and the MN block
// starting at `mn0`. The operand is K-major when its contiguous dimension is K (`kIsFast`),
// MN-major otherwise (then the descriptor's leading byte offset is the chunk size).
Value operandOffset(KernelEmitter& e, Location loc, const SmemTile& t, bool kIsFast, int64_t k0,
                                        Value mn0) {
  OpBuilder& b = e.b;
  int64_t eb = t.eb;
  if (kIsFast) {
    // Rows are MN; k0 picks the 128-byte chunk and the 32-byte step inside its rows.
    int64_t fixed = (k0 * eb / SmemTile::kSwizzleBytes) * t.chunkBytes() + (k0 * eb) % SmemTile::kSwizzleBytes;
    Value rows = b.create<arith::MulIOp>(loc, mn0, e.i32(SmemTile::kSwizzleBytes));
    return b.create<arith::AddIOp>(loc, rows, e.i32(fixed));
  }
  // Rows are K (16 rows per k-step); mn0 (a multiple of 64 elements) picks the chunk; the
  // next 64 MN elements are one chunk further (leading byte offset).
  Value chunk = b.create<arith::MulIOp>(loc, b.create<arith::DivUIOp>(loc, b.create<arith::MulIOp>(loc, mn0, e.i32(eb)),
                                                                      e.i32(SmemTile::kSwizzleBytes)),
                                        e.i32(t.chunkBytes()));
  return b.create<arith::AddIOp>(loc, chunk, e.i32(k0 * SmemTile::kSwizzleBytes));
}

// The part of operandOffset that the k-step at `k0` adds to the one at k = 0 (a constant).
int64_t kStepBytes(const SmemTile& t, bool kIsFast, int64_t k0) {
  if (kIsFast) return (k0 * t.eb / SmemTile::kSwizzleBytes) * t.chunkBytes() + (k0 * t.eb) % SmemTile::kSwizzleBytes;
  return k0 * SmemTile::kSwizzleBytes;
}

Value descriptorAt(KernelEmitter& e, Location loc, Value tileDesc, Value byteOffset) {
  OpBuilder& b = e.b;
  Value units = b.create<arith::ShRUIOp>(loc, b.create<arith::ExtUIOp>(loc, b.getI64Type(), byteOffset), e.i64(4));
  return b.create<arith::AddIOp>(loc, tileDesc, units);
}

}  // namespace

bool wgmmaDot(Operation* op, unsigned& warps) {
  auto dot = cast<ti::DotOp>(op);
  auto at = dot.getA().getType(), ct = dot.getAcc().getType();
  auto mma = dyn_cast<tg::MmaAttr>(ct.getEncoding());
  if (!mma || mma.getWarpsPerCTA().size() != 2) return false;
  unsigned wm = mma.getWarpsPerCTA()[0], wn = mma.getWarpsPerCTA()[1];
  // Warpgroups side by side along N need contiguous column blocks (one wgmma each).
  if (wm % 4 || (wn != 1 && !mma.getColumnBlocks())) return false;
  warps = wm;
  return wgmmaShape(ct.getDimSize(0), ct.getDimSize(1), at.getDimSize(1), at.getElementType().getIntOrFloatBitWidth(),
                    ct.getElementType().isF32(), wm * wn) &&
         ct.getDimSize(0) % (16 * int64_t(wm)) == 0;
}

LogicalResult emitWgmmaDot(KernelEmitter& e, Operation* op, bool& handled) {
  handled = false;
  auto dot = cast<ti::DotOp>(op);
  auto at = dot.getA().getType(), ct = dot.getAcc().getType();
  Type elem = at.getElementType();
  unsigned W = 0;
  if ((!elem.isBF16() && !elem.isF16()) || !wgmmaDot(op, W)) return success();
  int64_t M = ct.getDimSize(0), K = at.getDimSize(1);
  // Warpgroups along N (columnBlocks) each own N / wn contiguous columns.
  const int64_t wn = int64_t(cast<tg::MmaAttr>(ct.getEncoding()).getWarpsPerCTA()[1]);
  const int64_t N = ct.getDimSize(1) / wn;
  auto deferredB = e.deferredFragments.find(dot.getB().getAsOpaquePointer());
  if (deferredB == e.deferredFragments.end() || !deferredB->second->tile.swizzled) return success();
  auto deferredA = e.deferredFragments.find(dot.getA().getAsOpaquePointer());
  bool aInSmem = deferredA != e.deferredFragments.end() && deferredA->second->tile.swizzled;
  std::string why;
  auto cl = layoutOf(ct, &why);
  auto al = layoutOf(at, &why);
  if (failed(cl) || failed(al)) return op->emitOpError(why);
  handled = true;

  OpBuilder& b = e.b;
  Location loc = op->getLoc();
  bool bf16 = elem.isBF16();
  const char* ty = bf16 ? "bf16" : "f16";
  const SmemTile& bt = deferredB->second->tile;
  bool bKFast = bt.fast == 0;  // B is K x N
  Value bDesc = tileDescriptor(e, loc, bt, bKFast ? 16 : bt.chunkBytes());
  Value aDesc;
  bool aKFast = false;
  if (aInSmem) {
    const SmemTile& atile = deferredA->second->tile;
    aKFast = atile.fast == 1;  // A is M x K
    aDesc = tileDescriptor(e, loc, atile, aKFast ? 16 : atile.chunkBytes());
  }
  // This warpgroup's first row, 64 * ((warp % W) / 4), and first column, N * (warp / W).
  Value wgRow = b.create<arith::MulIOp>(
      loc, b.create<arith::DivUIOp>(loc, b.create<arith::RemUIOp>(loc, e.warp(), e.i32(int32_t(W))), e.i32(4)),
      e.i32(64));
  Value wgCol = wn == 1 ? e.i32(0)
                        : b.create<arith::MulIOp>(loc, b.create<arith::DivUIOp>(loc, e.warp(), e.i32(int32_t(W))),
                                                  e.i32(int32_t(N))).getResult();

  SmallVector<Value> A(e.regs(dot.getA()));
  SmallVector<Value> C(e.regs(dot.getAcc()));
  auto reg = [](const LinearLayout& l, int64_t r0, int64_t r1) { return l.regAt(Coord{r0, r1}); };
  int64_t blockRows = 16 * int64_t(W);  // rows between the 64-row blocks of one warpgroup
  // Accumulator registers of block j, n-chunk [n0, n0 + nw), in wgmma's order.
  auto accRegs = [&](int64_t j, int64_t n0, int64_t nw, SmallVector<int64_t>& idx) -> LogicalResult {
    for (int64_t i = 0; i < nw / 8; ++i)
      for (int h = 0; h < 2; ++h)
        for (int c = 0; c < 2; ++c) {
          int64_t r = reg(*cl, blockRows * j + 8 * h, n0 + 8 * i + c);
          if (r < 0) return op->emitOpError("wgmma: accumulator layout mismatch");
          idx.push_back(r);
        }
    return success();
  };

  // A of every (block, k-step): four packed registers, or a descriptor. All of them exist
  // before the fence, so no register a wgmma reads is written after it.
  int64_t blocks = M / blockRows;
  std::vector<SmallVector<Value>> aSteps;
  for (int64_t j = 0; j < blocks; ++j) {
    Value m0 = b.create<arith::AddIOp>(loc, wgRow, e.i32(blockRows * j));
    for (int64_t k0 = 0; k0 < K; k0 += 16) {
      SmallVector<Value> aOps;
      if (aInSmem) {
        // The block's descriptor at k = 0; each k-step adds its constant offset in the asm.
        if (k0 == 0) aOps.push_back(descriptorAt(e, loc, aDesc, operandOffset(e, loc, deferredA->second->tile, aKFast, 0, m0)));
        else aOps.push_back(aSteps.back()[0]);
      } else {
        if (deferredA != e.deferredFragments.end()) {
          auto& d = *deferredA->second;
          if (failed(loadFragments(e, d.convert, d.layout, d.opIdx, d.tile, d.elem, A, k0))) return failure();
        }
        for (int p = 0; p < 4; ++p) {
          int64_t m = blockRows * j + 8 * (p & 1), k = k0 + 8 * (p >> 1);
          int64_t lo = reg(*al, m, k), hi = reg(*al, m, k + 1);
          if (lo < 0 || hi < 0 || !A[lo] || !A[hi]) return op->emitOpError("wgmma: A fragment layout mismatch");
          aOps.push_back(packPair(b, loc, A[lo], A[hi], /*asI32=*/true));
        }
      }
      aSteps.push_back(aOps);
    }
  }
  int64_t nChunk = std::min<int64_t>(N, kMaxWgmmaN);
  // B's descriptor at k = 0 for each n-chunk of this warpgroup's columns.
  SmallVector<Value> bBase;
  for (int64_t n0 = 0; n0 < N; n0 += nChunk) {
    Value col = wn == 1 ? e.i32(int32_t(n0)) : b.create<arith::AddIOp>(loc, wgCol, e.i32(int32_t(n0))).getResult();
    bBase.push_back(descriptorAt(e, loc, bDesc, operandOffset(e, loc, bt, bKFast, 0, col)));
  }
  // A fresh accumulator (every register a literal 0.0: `dot(a, b)` without one, the scores of
  // attention) is not read at all: each (block, n-chunk)'s first k-step runs with scale-d = 0
  // (D = A*B), so its registers need no zeroing. They enter as poison: 32-64 `mov`s less per
  // dot, and no register writes between an in-flight wgmma and the next dot's fence (ptxas
  // otherwise injects a warpgroup.wait there, C7517).
  const bool fresh = !C.empty() && llvm::all_of(C, [](Value v) { return v && matchPattern(v, m_AnyZeroFloat()); });
  if (fresh) {
    Value undefined = b.create<LLVM::PoisonOp>(loc, b.getF32Type());
    for (Value& v : C) v = undefined;
  }
  // Fence: the accumulators are final before the first wgmma reads them.
  C = tiedAsm(b, loc, "wgmma.fence.sync.aligned;", C);
  Value one = e.i32(1), zero = e.i32(0);
  for (int64_t j = 0; j < blocks; ++j) {
    for (int64_t k0 = 0; k0 < K; k0 += 16) {
      const SmallVector<Value>& aOps = aSteps[size_t(j * (K / 16) + k0 / 16)];
      for (int64_t n0 = 0; n0 < N; n0 += nChunk) {
        Value bD = bBase[size_t(n0 / nChunk)];
        SmallVector<int64_t> idx;
        if (failed(accRegs(j, n0, nChunk, idx))) return failure();
        int64_t n = int64_t(idx.size());
        // The k-step's descriptors: the k = 0 ones plus a constant (in 16-byte units), added in
        // the asm so that LLVM keeps one descriptor per operand, not one per k-step, live over a
        // loop that reads a loop-invariant tile.
        std::string text = "{\n.reg .pred p;\n.reg .b64 da, db;\nsetp.ne.b32 p, $" +
                           std::to_string(2 * n + int64_t(aOps.size()) + 1) + ", 0;\n";
        if (aInSmem)
          text += "add.s64 da, $" + std::to_string(2 * n) + ", " +
                  std::to_string(kStepBytes(deferredA->second->tile, aKFast, k0) >> 4) + ";\n";
        text += "add.s64 db, $" + std::to_string(2 * n + int64_t(aOps.size())) + ", " +
                std::to_string(kStepBytes(bt, bKFast, k0) >> 4) + ";\n";
        text += "wgmma.mma_async.sync.aligned.m64n" + std::to_string(nChunk) + "k16.f32." + ty + "." + ty + " {";
        std::string constraints;
        for (int64_t i = 0; i < n; ++i) {
          text += (i ? ", $" : "$") + std::to_string(i);
          constraints += (i ? ",=f" : "=f");
        }
        text += "}, ";
        SmallVector<Value> operands;
        for (int64_t i = 0; i < n; ++i) {
          operands.push_back(C[idx[i]]);
          constraints += "," + std::to_string(i);
        }
        int64_t next = 2 * n;
        if (aInSmem) {
          text += "da";
          ++next;
          constraints += ",l";
        } else {
          text += "{";
          for (int p = 0; p < 4; ++p) {
            text += (p ? ", $" : "$") + std::to_string(next++);
            constraints += ",r";
          }
          text += "}";
        }
        llvm::append_range(operands, aOps);
        text += ", db, p, 1, 1, ";
        ++next;
        constraints += ",l,r";
        operands.push_back(bD);
        operands.push_back(fresh && k0 == 0 ? zero : one);  // scale-d
        if (aInSmem) text += aKFast ? "0, " : "1, ";
        text += bKFast ? "0;\n}" : "1;\n}";
        SmallVector<Type> f32s(size_t(n), b.getF32Type());
        auto asmOp = b.create<LLVM::InlineAsmOp>(loc, LLVM::LLVMStructType::getLiteral(b.getContext(), f32s), operands,
                                                 text, constraints, /*has_side_effects=*/true,
                                                 /*is_align_stack=*/false, LLVM::TailCallKind::None,
                                                 LLVM::AsmDialectAttr(), ArrayAttr());
        for (int64_t i = 0; i < n; ++i)
          C[idx[i]] = b.create<LLVM::ExtractValueOp>(loc, asmOp.getResult(0), ArrayRef<int64_t>{i});
      }
    }
  }
  b.create<NVVM::WgmmaGroupSyncAlignedOp>(loc);
  if (e.deferDotsIn && op->getParentOp() == e.deferDotsIn) {
    // In flight: until settled, these values may only feed another wgmma's accumulator.
    e.setRegs(dot.getResult(), C);
    e.inflightDots.push_back({op, {}});
    return success();
  }
  C = tiedAsm(b, loc, "wgmma.wait_group.sync.aligned 0;", C);
  e.setRegs(dot.getResult(), C);
  return success();
}

namespace {

// Waits until the in-flight groups 0..last have completed (wgmma.wait_group with the younger
// ones still pending), then gives their results the waited registers.
void settleThrough(KernelEmitter& e, size_t last) {
  const std::string text = "wgmma.wait_group.sync.aligned " + std::to_string(e.inflightDots.size() - 1 - last) + ";";
  std::vector<KernelEmitter::InflightDot> done(e.inflightDots.begin(), e.inflightDots.begin() + last + 1);
  e.inflightDots.erase(e.inflightDots.begin(), e.inflightDots.begin() + last + 1);
  for (KernelEmitter::InflightDot& d : done) {
    Value result = d.dot->getResult(0);
    // Every group's registers pass through a wait of their own (one asm each): LLVM must not
    // read any of them above it. Only the first of these waits actually waits.
    e.setRegs(result, tiedAsm(e.b, d.dot->getLoc(), text, e.regs(result)));
    for (auto& f : d.onComplete) f();
  }
}

}  // namespace

void KernelEmitter::settleDotsReadBy(Operation* op) {
  if (inflightDots.empty()) return;
  int newest = -1;
  op->walk([&](Operation* inner) {
    for (Value v : inner->getOperands())
      for (size_t k = 0; k < inflightDots.size(); ++k)
        if (inflightDots[k].dot->getResult(0) == v) newest = std::max(newest, int(k));
  });
  if (newest >= 0) settleThrough(*this, size_t(newest));
}

void KernelEmitter::settleAllDots() {
  if (!inflightDots.empty()) settleThrough(*this, inflightDots.size() - 1);
}

}  // namespace tile::lowering
