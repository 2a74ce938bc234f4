// tile-convert-to-gpu: laid-out tile kernels (func.func + tile.kernel) -> gpu.func kernels in
// `gpu.module @kernels`, one PTX parameter per tile argument:
//   !tile.ptr<T> -> !llvm.ptr (generic address space; cast to addrspace(1) inside), i32, f32.
// Block = num_warps * 32 threads along x, grid = program ids, dynamic shared memory =
// tile.smem_bytes bytes at the extern `@tile_smem` (addrspace 3, 1024-byte aligned: wgmma
// descriptors address swizzled tiles in it).
#include <functional>

#include "dsl/ir/TileDialect.h"
#include "lowering/backend/register_split.h"
#include "lowering/ir/TilegpuDialect.h"
#include "lowering/passes/async_ptx.h"
#include "lowering/passes/emit_bulk_reduce.h"
#include "lowering/passes/emit_tma.h"
#include "lowering/passes/kernel_emitter.h"
#include "lowering/passes/memory_helpers.h"
#include "lowering/passes/passes.h"
#include "lowering/passes/pipeline_uses.h"
#include "lowering/passes/smem_allocator.h"
#include "lowering/passes/smem_tile.h"
#include "lowering/passes/stage_rings.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
namespace ti = tile::ir;

namespace tile::lowering {


namespace {

constexpr const char* kSmemSymbol = "tile_smem";
constexpr const char* kSmemBytesAttr = "tile.smem_bytes";
// Largest dynamic shared memory of one block on the H100 (227 KiB, sm_90).
constexpr int64_t kSmemLimit = 227 * 1024;

// The scratch area first reserved beside staging regions.
constexpr int64_t kScratchReserve = 48 * 1024;

// Warp specialisation (tile.warp_specialized): a producer warpgroup after the kernel's warps.
constexpr unsigned kProducerWarps = 4;

bool wantsWarpSpecialization(func::FuncOp f, unsigned nw, bool hasTma) {
  // setmaxnreg works per warpgroup, so the consumers must be whole warpgroups; a kernel that
  // asks for several blocks per multiprocessor keeps its registers as they are.
  return f->hasAttr(ti::kWarpSpecializedAttr) && hasTma && nw % 4 == 0 && !f->hasAttr(ti::kMinBlocksPerSmAttr);
}

// The block's code split by role: `if (tid >= consumer threads) producer else consumers`, each
// branch starting with its setmaxnreg. In the consumers' branch every block-wide barrier the
// emitters made becomes named barrier kConsumerBarrier over the consumer threads only; the
// producer and the consumers meet only at the block barriers of the producer-fed loops.
LogicalResult emitWarpRoles(KernelEmitter& e, func::FuncOp f, mlir::gpu::GPUFuncOp gf) {
  OpBuilder& b = e.b;
  Location loc = f.getLoc();
  const int consumerThreads = e.numWarps * 32;
  // The default split (lowering/backend/register_split.h); the back end may move it where
  // ptxas reports spills, finding the two setmaxnreg by the counts recorded on the kernel.
  const tile::backend::RegisterSplit split =
      tile::backend::default_register_split(int(kProducerWarps) * 32, consumerThreads);
  // The stage barriers of producer-fed loops are initialised here, before the split, and
  // never again: no role writes their bytes while the other may use them, and the two roles do
  // not meet at a barrier for them. Their rings' use counts, which set the stages and barrier
  // phases of every copy and wait, start at 0 in every thread of both roles; a loop reads its
  // ring's count and adds its trip count (loops inside a loop over tiles carry them on).
  e.barriersAtEntry.clear();
  e.ringUses.clear();
  f.walk([&](ti::LoadBlockOp load) {
    auto loop = dyn_cast<scf::ForOp>(load->getParentOp());
    if (!loop || !e.producerLoops.count(loop) || !e.tmaExtraOffset.count(load) || e.ringHead(load) != load) return;
    e.barriersAtEntry.insert(load);
  });
  for (Operation* head : e.barriersAtEntry) {
    Value one = e.i32(1);
    Value var = b.create<LLVM::AllocaOp>(loc, llvmPtr(b.getContext(), 0), b.getI32Type(), one, 4);
    b.create<LLVM::StoreOp>(loc, e.i32(0), var, 4);
    e.ringUses[head] = var;
  }
  emitEntryBarrierInit(e, loc);
  Value producer = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, e.threadId(), e.i32(consumerThreads));
  auto roles = b.create<scf::IfOp>(loc, producer, /*withElseRegion=*/true);
  roles->setAttr(ptx::kWarpRolesAttr, b.getUnitAttr());
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(roles.thenBlock()->getTerminator());
    inlineAsm(b, loc, std::string(ptx::kSetMaxRegDec) + std::to_string(split.producer) + ";", "", {});
    e.tmaIssuer = consumerThreads;
    if (failed(emitProducer(e, f.getBody().front()))) return failure();
    b.setInsertionPoint(roles.elseBlock()->getTerminator());
    inlineAsm(b, loc, std::string(ptx::kSetMaxRegInc) + std::to_string(split.consumer) + ";", "", {});
    e.tmaIssuer = 0;
    e.skipReturn = true;
    if (failed(e.emitBlock(f.getBody().front()))) return failure();
    e.skipReturn = false;
  }
  SmallVector<mlir::gpu::BarrierOp> barriers;
  roles.getElseRegion().walk([&](mlir::gpu::BarrierOp bar) { barriers.push_back(bar); });
  for (auto bar : barriers) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPoint(bar);
    inlineAsm(b, bar.getLoc(), ptx::kNamedBarrierSync, "r,r", {e.i32(ptx::kConsumerBarrier), e.i32(consumerThreads)});
    bar.erase();
  }
  b.create<mlir::gpu::ReturnOp>(loc);
  // setmaxnreg needs a register cap at entry: one block per multiprocessor.
  if (!gf->hasAttr(NVVM::NVVMDialect::getMinctasmAttrName()))
    gf->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(), b.getI32IntegerAttr(1));
  gf->setAttr(ptx::kConsumerWarpsAttr, b.getI32IntegerAttr(e.numWarps));
  gf->setAttr(ptx::kRegisterSplitAttr, b.getDenseI32ArrayAttr({split.producer, split.consumer}));
  return success();
}

// Bytes at the end of shared memory kept for the scratch area, whose size is known only once the
// kernel is emitted: operand staging regions stay below kSmemLimit - scratch; bulk reduce-add
// staging below kSmemLimit - bulk (0 at first: placed last, it may take the part of the
// reservation a kernel turns out not to need).
struct ScratchReserve {
  int64_t scratch = 0, bulk = 0;
};

// One attempt at lowering kernel `f` into `gm` within `reserve`. When the kernel then needs more
// shared memory than an H100 block has because its scratch area outgrew a reservation, nothing
// is reported: *retry holds the reservations to try next (the caller erases *made and tries
// again); otherwise *retry is left zero.
LogicalResult convertKernelOnce(func::FuncOp f, mlir::gpu::GPUModuleOp gm, ScratchReserve reserve,
                                ScratchReserve* retry, mlir::gpu::GPUFuncOp* made) {
  *retry = {};
  const int64_t scratchReserve = reserve.scratch;
  MLIRContext* ctx = f.getContext();
  Location loc = f.getLoc();
  unsigned nw = 4;
  if (auto a = f->getAttrOfType<IntegerAttr>(ti::kNumWarpsAttr)) nw = unsigned(a.getInt());
  SmallVector<Type> argTypes;
  for (Type t : f.getArgumentTypes()) {
    if (isa<ti::PtrType>(t)) argTypes.push_back(llvmPtr(ctx, 0));
    else if (t.isInteger(32) || t.isF32() || t.isInteger(64)) argTypes.push_back(t);
    else return f.emitOpError("kernel argument type ") << t << " is not supported (pointer, i32, f32)";
  }
  // Pipelined loads TMA may copy: each gets a tensor map, made in the kernel from a template
  // in a workspace the runtime passes as a hidden last argument (async_ptx.h); the loads of a
  // ring shared by sibling loops (stage_rings.h) get one, their head's.
  bool anyTma = false;
  f.walk([&](ti::LoadBlockOp load) { anyTma |= tmaCapable(load); });
  const bool warpRolesWanted = wantsWarpSpecialization(f, nw, anyTma);
  if (warpRolesWanted) attachRowsToCarriers(f);
  StageRings rings = warpRolesWanted ? planStageRings(f) : StageRings{};
  SmallVector<ti::LoadBlockOp> tmaLoads;
  f.walk([&](ti::LoadBlockOp load) {
    if (tmaCapable(load) && rings.headOf(load) == load) tmaLoads.push_back(load);
  });
  if (!tmaLoads.empty()) argTypes.push_back(llvmPtr(ctx, 0));
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(gm.getBody());
  auto gf = b.create<mlir::gpu::GPUFuncOp>(loc, f.getName(), FunctionType::get(ctx, argTypes, {}));
  *made = gf;
  gf->setAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  if (auto a = f->getAttrOfType<IntegerAttr>(ti::kMinBlocksPerSmAttr))
    gf->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(), b.getI32IntegerAttr(int32_t(a.getInt())));
  if (!tmaLoads.empty()) {
    SmallVector<Attribute> templates;
    for (ti::LoadBlockOp load : tmaLoads) {
      auto type = load.getResult().getType();
      int32_t elem = type.getElementType().isBF16() ? ptx::kTmaBf16 : ptx::kTmaF16;
      templates.push_back(b.getDenseI32ArrayAttr({elem, ptx::kTmaBoxBytes / 2, int32_t(type.getShape()[0])}));
    }
    gf->setAttr(ptx::kTmaTemplatesAttr, b.getArrayAttr(templates));
    gf.setArgAttr(gf.getNumArguments() - 1, "tile.arg_name", b.getStringAttr(ptx::kTmaWorkspaceArg));
  }
  Block& entry = gf.getBody().front();
  b.setInsertionPointToStart(&entry);
  Value tid = b.create<arith::IndexCastOp>(loc, b.getI32Type(), b.create<mlir::gpu::ThreadIdOp>(loc, mlir::gpu::Dimension::x));
  Value smem = b.create<LLVM::AddressOfOp>(loc, llvmPtr(ctx, 3), kSmemSymbol);
  // Prologue anchor: thread-invariant values are inserted before it.
  Operation* anchor = b.create<arith::ConstantIntOp>(loc, b.getI32Type(), 0);
  KernelEmitter e(b, anchor, tid, smem);
  e.numWarps = int(nw);
  e.warpgroupTurns = f->hasAttr(ti::kWarpgroupTurnsAttr);
  e.blockThreads = int(nw * 32);
  if (!tmaLoads.empty()) {
    e.tmaWorkspace = b.create<LLVM::PtrToIntOp>(loc, b.getI64Type(), gf.getArguments().back());
    e.tmaCount = int(tmaLoads.size());
    for (auto [i, load] : llvm::enumerate(tmaLoads)) e.tmaIndex[load] = int(i);
    for (auto [load, head] : rings.head) e.tmaIndex[load] = e.tmaIndex[head];
  }
  // Long-lived regions: pipelining buffers (all needed), then a region per dot operand staged
  // for per-k-step reads (not pipelined ones: those are read from their pipeline buffers), each
  // live from its top-level op to its last user's; regions of different loops share bytes.
  // The scratch area (conversions, reductions) comes after all of them.
  // Live ranges in a pre-order numbering of the kernel's ops: an op spans its own number to
  // that of its last nested op.
  DenseMap<Operation*, std::pair<int, int>> span;
  int counter = 0;
  std::function<void(Operation*)> number = [&](Operation* op) {
    int first = counter++;
    for (Region& r : op->getRegions())
      for (Block& blk : r)
        for (Operation& inner : blk) number(&inner);
    span[op] = {first, counter - 1};
  };
  for (Operation& op : f.getBody().front()) number(&op);
  SmemAllocator plan(kSmemOperandAlign);
  // The TMA loads' map staging and stage barriers, all in one region over the whole kernel (an
  // mbarrier's bytes may serve nothing else until it is invalidated).
  int64_t extraBytes = 0;
  f.walk([&](ti::LoadBlockOp load) {
    auto stages = load->getAttrOfType<IntegerAttr>("tilegpu.pipeline");
    if (!stages || !tmaCapable(load) || rings.headOf(load) != load) return;
    e.tmaExtraOffset[load] = extraBytes;
    extraBytes += llvm::alignTo(tmaExtraBytes(load, stages.getInt()), 128);  // tensor maps are 128-byte aligned
  });
  if (extraBytes) {
    int64_t base = plan.place(extraBytes, 0, counter - 1, kSmemLimit);
    for (auto& [load, off] : e.tmaExtraOffset) off += base;
  }
  // The stage buffers of a ring live over its whole group of loops; its loads share them.
  // A ring whose loops run inside an outer loop keeps its buffers over the whole kernel: the
  // producer fills the next tile's stages while the consumers still finish the current one.
  // That holds only for loops a producer may feed (producerFeedable). A loop whose consumers
  // fill their own stages (a pipelined row among its loads) gets no producer, so its buffers
  // keep sharing bytes with its siblings' (whole-kernel buffers cost the backward's three
  // query loops 100 KB more than the kernel without roles).
  auto loopSpan = [&](Operation* load) {
    Operation* loop = load->getParentOp();
    if (warpRolesWanted && carriedAcrossRuns(loop) && producerFeedable(cast<scf::ForOp>(loop)))
      return std::make_pair(0, counter - 1);
    auto g = rings.group.find(loop);
    if (g == rings.group.end()) return span[loop];
    return std::make_pair(span[g->second.first].first, span[g->second.second].second);
  };
  LogicalResult placed = success();
  f.walk([&](Operation* op) {
    if (!op->hasAttr("tilegpu.pipeline") || rings.headOf(op) != op || op->hasAttr(kRowInStageAttr)) return;
    auto [first, last] = loopSpan(op);
    int64_t off = plan.place(pipelineBytes(op), first, last, kSmemLimit);
    if (off < 0) placed = f.emitOpError("software-pipelining buffers need more than the ") << kSmemLimit
                                        << " bytes of shared memory an H100 block can have (fewer stages or smaller tiles)";
    e.pipelineOffset[op] = off;
  });
  if (failed(placed)) return failure();
  for (auto [load, head] : rings.head) {
    e.pipelineOffset[load] = e.pipelineOffset[head];
    if (e.tmaExtraOffset.count(head)) e.tmaExtraOffset[load] = e.tmaExtraOffset[head];
  }
  // A riding row's bytes are in its carrier's stages (stage_rings.h).
  f.walk([&](Operation* row) {
    if (Operation* carrier = rowCarrier(row))
      e.pipelineOffset[row] = e.pipelineOffset[carrier] + row->getAttrOfType<IntegerAttr>(kRowInStageAttr).getInt();
  });
  e.rings = rings;
  DenseSet<Operation*> pipelinedConverts;
  for (auto& [load, off] : e.pipelineOffset)
    for (const PipelineUse& use : pipelinedConsumers(cast<ti::LoadBlockOp>(load))) pipelinedConverts.insert(use.convert);
  // Staging regions only while they leave room for the scratch area (48 KiB first, more when a
  // kernel's conversions need it); beyond that the operands go through the scratch area and are
  // loaded whole.
  struct Staged {
    Operation* op;
    int first, last;
  };
  DenseMap<void*, SmallVector<Staged>> staged;  // staging regions by the tile they hold
  f.walk([&](Operation* op) {
    if (pipelinedConverts.count(op)) return;
    int64_t bytes = deferredStagingBytes(op);
    if (!bytes) return;
    int first = span[op].first, last = first;
    for (Operation* user : op->getResult(0).getUsers())
      if (Operation* a = op->getBlock()->findAncestorOpInBlock(*user)) last = std::max(last, span[a].second);
    // A loop-invariant operand converted inside its loop (directly, or through a trans, which
    // moves no data) is staged once before the loop; its region then lives over the whole
    // loop. It shares the region of another conversion of the same tile when that region
    // lives over the whole loop, a transposed use reading it as the transposed view (K of the
    // backward: the A operand K of Sᵀ = K Qᵀ, converted before the loop, and the B operand K
    // of dQ = dS K).
    // Hoisted before the outermost enclosing loop the tile is defined outside of: a tile from
    // before a loop nest (K and V of the backward, around the loops over heads and over
    // masked and unmasked query blocks) is stored once, not from registers it would otherwise
    // keep over the whole nest.
    scf::ForOp loop;
    Value src = stagedSource(op);
    for (Operation* p = op->getParentOp(); auto f = dyn_cast_or_null<scf::ForOp>(p); p = p->getParentOp()) {
      if (f.getBodyRegion().isAncestor(src.getParentRegion())) break;
      loop = f;
    }
    bool hoist = bool(loop);
    if (hoist) std::tie(first, last) = span[loop];
    // In a pipelined loop the dot may still be reading the operand when its op is done (its
    // wgmma in flight, KernelEmitter::inflightDots) until the iteration ends: the region lives
    // to the end of the loop body.
    auto parentLoop = dyn_cast<scf::ForOp>(op->getParentOp());
    if (!hoist && parentLoop) {
      auto stages = parentLoop->getAttrOfType<IntegerAttr>(ti::kStagesAttr);
      if (stages && stages.getInt() >= 2) last = std::max(last, span[parentLoop].second);
    }
    // Another conversion of the same tile whose region lives over this one's span already
    // holds the bytes: stored before this loop (both hoisted), or earlier in the same block
    // (dS for dQ and dSᵀ for dK in the backward).
    for (const Staged& other : staged[src.getAsOpaquePointer()]) {
      bool sameSpot = hoist ? e.hoistedStaging.lookup(other.op) == loop.getOperation() || other.op->getBlock() != op->getBlock()
                            : other.op->getBlock() == op->getBlock() && !e.hoistedStaging.count(other.op);
      if (sameSpot && other.first <= first && other.last >= last && stagingSharable(other.op, op)) {
        e.deferredOffset[op] = e.deferredOffset[other.op];
        if (hoist) e.hoistedStaging[op] = loop;
        e.stagingAlias[op] = other.op;
        return;
      }
    }
    if (int64_t off = plan.place(bytes, first, last, kSmemLimit - scratchReserve); off >= 0) {
      e.deferredOffset[op] = off;
      if (hoist) e.hoistedStaging[op] = loop;
      staged[src.getAsOpaquePointer()].push_back({op, first, last});
    }
  });
  // atomic_add_blocks that can go by bulk reduce-add get a staging region over the whole kernel
  // (the copy engine may still read it after the op, until the warp's next wait), where room is
  // left after the regions above; the others keep the per-element atomics. Ops of one tile type
  // (shape and layout) share a region: each warp writes and reads back only its own segments,
  // and waits for all its earlier reduces before it writes.
  DenseMap<Type, int64_t> bulkRegions;
  f.walk([&](ti::AtomicAddBlockOp op) {
    Type type = op.getValue().getType();
    auto bulk = planBulkReduce(cast<RankedTensorType>(type));
    if (!bulk) return;
    auto [region, fresh] = bulkRegions.try_emplace(type, -1);
    if (fresh) region->second = plan.place(bulk->regionBytes(), 0, counter - 1, kSmemLimit - reserve.bulk);
    if (region->second >= 0) e.bulkReduceOffset[op] = region->second;
  });
  // Buffers no earlier region used: the producer may start filling them without meeting the
  // consumers (their barriers initialised at the entry).
  for (auto& [op, off] : e.pipelineOffset)
    if (e.ringHead(op) == op && !op->hasAttr(kRowInStageAttr) && !plan.usedBefore(off, pipelineBytes(op), loopSpan(op).first)) e.freshBuffers.insert(op);
  int64_t pipelineEnd = plan.end();
  e.setScratchBase(pipelineEnd);
  b.setInsertionPointToEnd(&entry);
  e.kernelArgs.assign(f.getArguments().begin(), f.getArguments().end());
  for (auto [src, dst] : llvm::zip(f.getArguments(), gf.getArguments())) {
    if (isa<ti::PtrType>(src.getType())) e.setRegs(src, {b.create<LLVM::AddrSpaceCastOp>(loc, llvmPtr(ctx, 1), dst)});
    else e.setRegs(src, {dst});
  }
  unsigned blockWarps = nw;
  if (wantsWarpSpecialization(f, nw, !tmaLoads.empty())) {
    e.warpSpecialized = true;
    e.blockThreads = int((nw + kProducerWarps) * 32);
    std::string why;
    if (failed(planProducer(e, f.getBody().front(), why))) {
      // Kept on the gpu.func, so that a kernel that asked and did not get it can tell why.
      gf->setAttr(ptx::kWarpRolesRefusedAttr, b.getStringAttr(why));
      e.warpSpecialized = false, e.blockThreads = int(nw * 32);
    }
  }
  if (e.warpSpecialized) {
    if (failed(emitWarpRoles(e, f, gf))) return failure();
    blockWarps = nw + kProducerWarps;
  } else if (failed(e.emitBlock(f.getBody().front()))) {
    return failure();
  }
  gf.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({int32_t(blockWarps * 32), 1, 1}));
  gf->setAttr(ti::kNumWarpsAttr, b.getI32IntegerAttr(int32_t(blockWarps)));
  if (int64_t scratch = e.smemBytes() - pipelineEnd; e.smemBytes() > kSmemLimit) {
    if (scratch > reserve.scratch) *retry = {scratch, std::max(scratch, reserve.bulk)};
    else if (scratch > reserve.bulk && !e.bulkReduceOffset.empty()) *retry = {reserve.scratch, scratch};
    if (retry->scratch) return failure();
  }
  if (e.smemBytes() > kSmemLimit)
    return f.emitOpError("needs ") << e.smemBytes() << " bytes of shared memory, more than the " << kSmemLimit
                                   << " an H100 block can have (smaller tiles or fewer pipeline stages)";
  gf->setAttr(kSmemBytesAttr, b.getI32IntegerAttr(int32_t(e.smemBytes())));
  return success();
}

// Lowers `f`, giving staging regions up for a larger scratch area when both do not fit.
LogicalResult convertKernel(func::FuncOp f, mlir::gpu::GPUModuleOp gm) {
  ScratchReserve reserve{kScratchReserve, 0};
  while (true) {
    ScratchReserve retry;
    mlir::gpu::GPUFuncOp made;
    LogicalResult r = convertKernelOnce(f, gm, reserve, &retry, &made);
    if (succeeded(r) || retry.scratch == 0) return r;
    made.erase();
    bool grows = retry.scratch > reserve.scratch || retry.bulk > reserve.bulk;
    if (!grows || retry.scratch > kSmemLimit)
      return f.emitOpError("needs more shared memory than the ") << kSmemLimit
                                                                  << " bytes an H100 block can have (smaller tiles or fewer pipeline stages)";
    reserve = retry;
  }
}

struct ConvertToGpuPass : PassWrapper<ConvertToGpuPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ConvertToGpuPass)
  StringRef getArgument() const override { return "tile-convert-to-gpu"; }
  StringRef getDescription() const override {
    return "Lower laid-out tile kernels to gpu.func kernels of per-thread scalar code in gpu.module @kernels";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<mlir::gpu::GPUDialect, LLVM::LLVMDialect, NVVM::NVVMDialect, scf::SCFDialect,
                    arith::ArithDialect, math::MathDialect, vector::VectorDialect>();
  }
  void runOnOperation() override {
    ModuleOp m = getOperation();
    MLIRContext* ctx = m.getContext();
    SmallVector<func::FuncOp> kernels;
    for (auto f : m.getOps<func::FuncOp>())
      if (f->hasAttr(ti::kKernelAttr)) kernels.push_back(f);
    if (kernels.empty()) return;
    m->setAttr(mlir::gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(ctx));
    OpBuilder b(ctx);
    b.setInsertionPointToEnd(m.getBody());
    auto gm = b.create<mlir::gpu::GPUModuleOp>(m.getLoc(), "kernels");
    b.setInsertionPointToStart(gm.getBody());
    b.create<LLVM::GlobalOp>(m.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0), /*isConstant=*/false,
                             LLVM::Linkage::External, kSmemSymbol, Attribute(), /*alignment=*/kSmemOperandAlign,
                             /*addrSpace=*/3);
    for (auto f : kernels) {
      if (failed(convertKernel(f, gm))) return signalPassFailure();
      f.erase();
    }
  }
};

}  // namespace

std::unique_ptr<Pass> createConvertToGpuPass() { return std::make_unique<ConvertToGpuPass>(); }

}  // namespace tile::lowering
