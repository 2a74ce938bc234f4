// The simulator's model of TMA copies, mbarriers, in-kernel tensor maps and bulk reduce-adds
// (simt_async.h), on hand-written gpu.func kernels in the shape the lowering emits. The asm
// strings are those of lowering/passes/async_ptx.h, written into the MLIR text from the C++
// constants.
//
// Three kernels, built from options. The first: warp 0 makes the block's tensor map from the workspace
// template and publishes it, thread 0 acquires it and inits an mbarrier; then two rounds, each
// TMA-loading a 64 x 128 bf16 tile (two 64-column boxes, one barrier) partly outside the
// tensor, waiting on the barrier (parity 0, then 1) and copying the tile, un-swizzled, to an
// output buffer. The second (pipelineKernel): a two-stage pipeline whose stages go back to the
// producer through "empty" mbarriers instead of a block-wide barrier. The third (bulkKernel):
// warps stage f32 rows in shared memory and add them to global rows with bulk reduce-adds. The
// correct kernels must reproduce the tensor with zeros outside it (the sums, for the third);
// each mutation must fail with the error that names its fault.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "dsl/ir/TileDialect.h"
#include "lowering/passes/async_ptx.h"
#include "lowering/pipeline.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "tests/lowering/simt_async.h"
#include "tests/lowering/simt_sim.h"

namespace sim = tile::lowering::sim;
namespace ptx = tile::lowering::ptx;
using Catch::Matchers::Contains;

namespace {

// Shared memory: tensor map at 0, mbarrier at 128, the tile (two boxes of 64 rows x 128 B)
// at 1024.
constexpr int kRows = 100, kCols = 150, kStride = 160;  // the tensor, per block (elements)
constexpr int kTileRows = 64, kTileCols = 128, kBoxBytes = kTileRows * 128;
constexpr int kThreads = 128;

struct Options {
  int templates = 1;             // entries of tile.tma_templates (the kernel uses template 0)
  bool copyTemplate = true;      // lane 0 copies the template into shared memory
  bool setDim1 = true;
  int dim1Extra = 0;             // rows beyond the tensor claimed by the map
  bool publish = true;
  bool publishLane0Only = false;  // publish inside lane 0's branch instead of by the warp
  bool warpSyncLane0Only = false;
  bool acquire = true;
  bool acquireBeforePublish = false;
  bool slotOfBlock0 = false;     // every block publishes into block 0's slot
  bool tmaThroughTemplate = false;
  bool barrierAfterInit = true;
  bool initTwice = false;
  bool initFence = true;  // fence.mbarrier_init after the init
  bool invalBetweenInits = false;
  bool storeToBarrier = false;
  bool expectTx = true;
  int expectBytes = 2 * kBoxBytes;
  bool extraArrive = false;
  int bufOffset = 1024;
  int parity[2] = {0, 1};
  bool readBeforeWait = false;   // round 1 reads the tile before its wait
  bool onlyThread0Waits = false;  // round 1
  bool barrierBeforeReissue = true;
  bool round2Wait = true, round2Reads = true;
  bool invalAtEnd = true;
};

std::string quoted(const char* s) {
  std::string out = "\"";
  for (const char* p = s; *p; ++p) {
    if (*p == '"' || *p == '\\') out += '\\', out += *p;
    else if (*p == '\n') out += "\\n";
    else if (*p == '\t') out += "\\t";
    else out += *p;
  }
  return out + "\"";
}

// llvm.inline_asm of `text` on (value, type) operands, no results.
std::string inlineAsm(const char* text, const std::string& constraints,
                      const std::vector<std::pair<std::string, std::string>>& operands) {
  std::string vals, types;
  for (size_t i = 0; i < operands.size(); ++i) {
    vals += (i ? ", " : " ") + operands[i].first;
    types += (i ? ", " : "") + operands[i].second;
  }
  return "llvm.inline_asm has_side_effects " + quoted(text) + ", \"" + constraints + "\"" + vals + " : (" + types + ") -> ()\n";
}

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

std::string kernel(const Options& o) {
  std::string n = std::to_string(o.templates);
  std::string templates;
  for (int k = 0; k < o.templates; ++k) templates += std::string(k ? ", " : "") + (k ? "array<i32: 1, 64, 32>" : "array<i32: 0, 64, 64>");
  int smemBytes = o.bufOffset + 2 * kBoxBytes;
  std::string s = R"(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.mlir.global external @tile_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
    gpu.func @tma_copy(%in: !llvm.ptr, %out: !llvm.ptr, %rows: i32, %cols: i32, %stride: i64, %batch: i64,
                       %col1: i32, %row1: i32, %col2: i32, %row2: i32, %rstep: i32, %ws: !llvm.ptr) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>, tile.num_warps = 4 : i32,
                    tile.smem_bytes = )" + std::to_string(smemBytes) + R"( : i32, tile.tma_templates = [)" + templates + R"(]} {
      %c0 = arith.constant 0 : i32
      %c1 = arith.constant 1 : i32
      %c2 = arith.constant 2 : i32
      %c3 = arith.constant 3 : i32
      %c6 = arith.constant 6 : i32
      %c7 = arith.constant 7 : i32
      %c16 = arith.constant 16 : i32
      %c32 = arith.constant 32 : i32
      %c63 = arith.constant 63 : i32
      %c64 = arith.constant 64 : i32
      %c127 = arith.constant 127 : i32
      %c128 = arith.constant 128 : i32
      %c8192 = arith.constant 8192 : i32
      %c_tile_elems = arith.constant )" + std::to_string(kTileRows * kTileCols) + R"( : i32
      %c_buf = arith.constant )" + std::to_string(o.bufOffset) + R"( : i32
      %c_expect = arith.constant )" + std::to_string(o.expectBytes) + R"( : i32
      %c_dim1_extra = arith.constant )" + std::to_string(o.dim1Extra) + R"( : i32
      %c_par0 = arith.constant )" + std::to_string(o.parity[0]) + R"( : i32
      %c_par1 = arith.constant )" + std::to_string(o.parity[1]) + R"( : i32
      %c1_i64 = arith.constant 1 : i64
      %c128_i64 = arith.constant 128 : i64
      %c_n_i64 = arith.constant )" + n + R"( : i64
      %zero_i64 = arith.constant 0 : i64
      %smem = llvm.mlir.addressof @tile_smem : !llvm.ptr<3>
      %tidx = gpu.thread_id x
      %tid = arith.index_cast %tidx : index to i32
      %bidx = gpu.block_id x
      %bx = arith.index_cast %bidx : index to i32
      %is_t0 = arith.cmpi eq, %tid, %c0 : i32
      %is_w0 = arith.cmpi ult, %tid, %c32 : i32
      %smem_i64 = llvm.ptrtoint %smem : !llvm.ptr<3> to i64
      %smem_i32 = arith.trunci %smem_i64 : i64 to i32
      %map = arith.addi %smem_i32, %c0 : i32
      %bar = arith.addi %smem_i32, %c128 : i32
      %buf = arith.addi %smem_i32, %c_buf : i32
      %buf_hi = arith.addi %buf, %c8192 : i32
      %bar_ptr = llvm.getelementptr %smem[128] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
      %bx_i64 = arith.extui %bx : i32 to i64
      %ws_i64 = llvm.ptrtoint %ws : !llvm.ptr to i64
      %slot_block = arith.addi %bx_i64, %c1_i64 : i64
      %slot_block_used = )" + (o.slotOfBlock0 ? "arith.addi %c1_i64, %zero_i64" : "arith.addi %slot_block, %zero_i64") + R"( : i64
      %slot_index = arith.muli %slot_block_used, %c_n_i64 : i64
      %slot_off = arith.muli %slot_index, %c128_i64 : i64
      %slot = arith.addi %ws_i64, %slot_off : i64
      %tma_map = )" + (o.tmaThroughTemplate ? "arith.addi %ws_i64, %zero_i64" : "arith.addi %slot, %zero_i64") + R"( : i64
      %in_i64 = llvm.ptrtoint %in : !llvm.ptr to i64
      %block_off = arith.muli %bx_i64, %batch : i64
      %base = arith.addi %in_i64, %block_off : i64
      %dim1 = arith.addi %rows, %c_dim1_extra : i32
      %row_shift = arith.muli %bx, %rstep : i32
      %r1 = arith.addi %row1, %row_shift : i32
      %r2 = arith.addi %row2, %row_shift : i32
      %col1_hi = arith.addi %col1, %c64 : i32
      %col2_hi = arith.addi %col2, %c64 : i32
)";
  std::string acquire = o.acquire ? inlineAsm(ptx::kTensorMapAcquire, "l", {{"%slot", "i64"}}) : "";
  std::string publish = o.publish ? inlineAsm(ptx::kTensorMapPublish, "l,r", {{"%slot", "i64"}, {"%map", "i32"}}) : "";
  std::string warpSync = inlineAsm(ptx::kWarpSync, "", {});
  if (o.acquireBeforePublish) s += "      scf.if %is_t0 {\n" + acquire + "      }\n";
  // Warp 0 makes the map; lane 0 writes it.
  s += "      scf.if %is_w0 {\n        scf.if %is_t0 {\n";
  if (o.copyTemplate)
    s += R"(
          scf.for %i = %c0 to %c16 step %c1 : i32 {
            %src = llvm.getelementptr %ws[%i] : (!llvm.ptr, i32) -> !llvm.ptr, i64
            %word = llvm.load %src : !llvm.ptr -> i64
            %dst = llvm.getelementptr %smem[%i] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i64
            llvm.store %word, %dst : i64, !llvm.ptr<3>
          }
)";
  s += inlineAsm(ptx::kTensorMapSetAddress, "r,l", {{"%map", "i32"}, {"%base", "i64"}});
  s += inlineAsm(ptx::kTensorMapSetDim0, "r,r", {{"%map", "i32"}, {"%cols", "i32"}});
  if (o.setDim1) s += inlineAsm(ptx::kTensorMapSetDim1, "r,r", {{"%map", "i32"}, {"%dim1", "i32"}});
  s += inlineAsm(ptx::kTensorMapSetStride0, "r,l", {{"%map", "i32"}, {"%stride", "i64"}});
  if (o.warpSyncLane0Only) s += warpSync;
  if (o.publishLane0Only) s += publish;
  s += "        }\n";
  if (!o.warpSyncLane0Only) s += warpSync;
  if (!o.publishLane0Only) s += publish;
  s += "      }\n";
  // Thread 0: acquire, barrier init.
  s += "      scf.if %is_t0 {\n";
  if (!o.acquireBeforePublish) s += acquire;
  s += inlineAsm(ptx::kMbarrierInit, "r,r", {{"%bar", "i32"}, {"%c1", "i32"}});
  if (o.invalBetweenInits) s += inlineAsm(ptx::kMbarrierInval, "r", {{"%bar", "i32"}});
  if (o.initTwice) s += inlineAsm(ptx::kMbarrierInit, "r,r", {{"%bar", "i32"}, {"%c1", "i32"}});
  if (o.initFence) s += inlineAsm(ptx::kMbarrierInitFence, "", {});
  if (o.storeToBarrier) s += "        llvm.store %zero_i64, %bar_ptr : i64, !llvm.ptr<3>\n";
  s += "      }\n";
  if (o.barrierAfterInit) s += "      gpu.barrier\n";

  for (int round = 0; round < 2; ++round) {
    std::string col = round ? "%col2" : "%col1", row = round ? "%r2" : "%r1";
    std::string colHi = round ? "%col2_hi" : "%col1_hi", parity = round ? "%c_par1" : "%c_par0";
    if (round == 1 && o.barrierBeforeReissue) s += "      gpu.barrier\n";
    s += "      scf.if %is_t0 {\n";
    for (int a = 0; a < (o.extraArrive && round == 0 ? 2 : 1); ++a)
      if (o.expectTx) s += inlineAsm(ptx::kMbarrierArriveExpectTx, "r,r", {{"%bar", "i32"}, {"%c_expect", "i32"}});
    s += inlineAsm(ptx::kTmaLoad2d, "r,l,r,r,r", {{"%buf", "i32"}, {"%tma_map", "i64"}, {col, "i32"}, {row, "i32"}, {"%bar", "i32"}});
    s += inlineAsm(ptx::kTmaLoad2d, "r,l,r,r,r", {{"%buf_hi", "i32"}, {"%tma_map", "i64"}, {colHi, "i32"}, {row, "i32"}, {"%bar", "i32"}});
    s += "      }\n";
    std::string wait = inlineAsm(ptx::kMbarrierWaitParity, "r,r", {{"%bar", "i32"}, {parity, "i32"}});
    bool doWait = round == 0 || o.round2Wait, doReads = round == 0 || o.round2Reads;
    bool waitLate = round == 0 && o.readBeforeWait;
    if (doWait && !waitLate) s += round == 0 && o.onlyThread0Waits ? "      scf.if %is_t0 {\n" + wait + "      }\n" : wait;
    // Element e = tid + 128 i of the 64 x 128 tile: row e / 128, column e % 128, in box
    // column / 64 at byte 2 (column % 64), 16-byte unit swizzled with the row.
    std::string loop = R"(
      scf.for %i_R = %c0 to %c64 step %c1 : i32 {
        %e_R = arith.muli %i_R, %c128 : i32
        %el_R = arith.addi %e_R, %tid : i32
        %row_R = arith.shrui %el_R, %c7 : i32
        %colt_R = arith.andi %el_R, %c127 : i32
        %box_R = arith.shrui %colt_R, %c6 : i32
        %cb_R = arith.andi %colt_R, %c63 : i32
        %unit_R = arith.shrui %cb_R, %c3 : i32
        %sw_R = arith.andi %row_R, %c7 : i32
        %unit_sw_R = arith.xori %unit_R, %sw_R : i32
        %in_unit_R = arith.andi %cb_R, %c7 : i32
        %box_off_R = arith.muli %box_R, %c8192 : i32
        %row_off_R = arith.muli %row_R, %c128 : i32
        %unit_off_R = arith.muli %unit_sw_R, %c16 : i32
        %byte_off_R = arith.muli %in_unit_R, %c2 : i32
        %o1_R = arith.addi %box_off_R, %row_off_R : i32
        %o2_R = arith.addi %o1_R, %unit_off_R : i32
        %o3_R = arith.addi %o2_R, %byte_off_R : i32
        %o4_R = arith.addi %o3_R, %c_buf : i32
        %p_R = llvm.getelementptr %smem[%o4_R] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
        %v_R = llvm.load %p_R : !llvm.ptr<3> -> i16
        %blk2_R = arith.muli %bx, %c2 : i32
        %slab_R = arith.addi %blk2_R, %c_round_R : i32
        %slab_off_R = arith.muli %slab_R, %c_tile_elems : i32
        %oi_R = arith.addi %slab_off_R, %el_R : i32
        %q_R = llvm.getelementptr %out[%oi_R] : (!llvm.ptr, i32) -> !llvm.ptr, i16
        llvm.store %v_R, %q_R : i16, !llvm.ptr
      }
)";
    replaceAll(loop, "%c_round_R", round ? "%c1" : "%c0");
    replaceAll(loop, "_R", "_r" + std::to_string(round));
    if (doReads) s += loop;
    if (doWait && waitLate) s += wait;
  }
  if (o.invalAtEnd) s += "      gpu.barrier\n      scf.if %is_t0 {\n" + inlineAsm(ptx::kMbarrierInval, "r", {{"%bar", "i32"}}) + "      }\n";
  s += "      gpu.return\n    }\n  }\n}\n";
  return s;
}

struct Module {
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  explicit Module(const std::string& text) {
    mlir::DialectRegistry registry;
    tile::ir::registerTileDialects(registry);
    tile::lowering::registerLowering(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
    if (!module) FAIL("kernel text does not parse:\n" << text);
  }
};

struct Coords {
  int col, row;
};

// Runs the kernel built from `o` over `blocks` blocks; on success checks the output tiles
// against the tensor (zeros outside it). Returns the simulator's error.
std::string runKernel(const Options& o, int blocks = 3, Coords round1 = {32, 64}, Coords round2 = {-16, -8},
                      int rowStep = 3) {
  Module m(kernel(o));
  std::mt19937 gen(1234);
  std::uniform_real_distribution<float> dist(0.5f, 2.0f);
  size_t perBlock = size_t(kRows) * kStride;
  sim::Buffer in, out;
  in.bytes.resize(perBlock * blocks * 2);
  std::vector<uint16_t> x(perBlock * blocks);
  for (auto& v : x) v = sim::toBf16(dist(gen) * (gen() & 1 ? 1.0f : -1.0f));
  std::memcpy(in.bytes.data(), x.data(), in.bytes.size());
  size_t tile = size_t(kTileRows) * kTileCols;
  out.bytes.assign(tile * 2 * blocks * 2, 0xFF);  // poisoned: 0xFFFF is a bf16 NaN
  std::vector<sim::Buffer> bufs = {in, out};
  std::string err = sim::run(*m.module, "tma_copy",
                             {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::i32(kRows), sim::Arg::i32(kCols),
                              sim::Arg::i32(kStride * 2), sim::Arg::i32(int(perBlock * 2)), sim::Arg::i32(round1.col),
                              sim::Arg::i32(round1.row), sim::Arg::i32(round2.col), sim::Arg::i32(round2.row),
                              sim::Arg::i32(rowStep)},
                             bufs, blocks);
  if (!err.empty()) return err;
  REQUIRE(bufs.size() == 2);  // the workspace is gone again
  for (int b = 0; b < blocks; ++b)
    for (int round = 0; round < 2; ++round) {
      Coords c = round ? round2 : round1;
      int row0 = c.row + b * rowStep;
      for (int r = 0; r < kTileRows; ++r)
        for (int k = 0; k < kTileCols; ++k) {
          int gr = row0 + r, gc = c.col + k;
          uint16_t want = gr >= 0 && gr < kRows && gc >= 0 && gc < kCols ? x[size_t(b) * perBlock + size_t(gr) * kStride + size_t(gc)] : 0;
          uint16_t got;
          std::memcpy(&got, &bufs[1].bytes[((size_t(b) * 2 + size_t(round)) * tile + size_t(r) * kTileCols + size_t(k)) * 2], 2);
          if (got != want) {
            INFO("block " << b << " round " << round << " row " << r << " col " << k);
            REQUIRE(got == want);
          }
        }
    }
  return "";
}

// ---- a two-stage pipeline handing its stages back through "empty" mbarriers ----------------
// The shape the software pipeline takes without a block-wide barrier per iteration: per stage
// s a "full" barrier (count 1: thread 0's arrive.expect_tx, completed by the TMA copy) and an
// "empty" one (count = warps). Tile n (64 rows x 64 bf16 = one box) goes to stage n % 2.
// Thread 0 fills stage 0 with tile 0 before the loop; iteration i first refills stage
// (i + 1) % 2 with tile i + 1, after waiting on that stage's empty barrier for the phase its
// previous occupant (tile i - 1) completed (no wait at a stage's first use); then every thread
// waits on full[i % 2], reads the stage (ordinary loads, un-swizzling) and stores the tile to
// the output; then each warp does bar.warp.sync and its lane 0 arrives on empty[i % 2]. No
// gpu.barrier inside the loop: the stages change hands through the mbarriers alone.
//
// Shared memory: tensor map at 0, full[0..1] at 128 and 136, empty[0..1] at 144 and 152, the
// stages at 1024 and 1024 + 8192.
constexpr int kPipeCols = 64, kPipeTileRows = 64, kPipeStage = kPipeTileRows * 128;

struct PipeOptions {
  int warps = 4;
  int iters = 5;
  int emptyCount = -1;           // the empty barriers' count; -1: the number of warps
  bool emptyWait = true;
  bool flipEmptyParity = false;
  int warpWithoutArrive = -1;    // this warp's lane 0 does not arrive on the empty barrier
  bool arriveBeforeLastRead = false;
  bool warpSyncBeforeArrive = true;
  int stageWriter = -1;          // this thread stores 16 bytes into the stage before the refill
};

std::string pipelineKernel(const PipeOptions& o) {
  int threads = o.warps * 32, perThread = kPipeTileRows * kPipeCols / threads;
  auto num = [](int v) { return std::to_string(v); };
  std::string s = R"(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.mlir.global external @tile_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
    gpu.func @pipe(%in: !llvm.ptr, %out: !llvm.ptr, %rows: i32, %iters: i32, %ws: !llvm.ptr) kernel
        attributes {known_block_size = array<i32: )" + num(threads) + R"(, 1, 1>, tile.num_warps = )" + num(o.warps) +
                  R"( : i32, tile.smem_bytes = )" + num(1024 + 2 * kPipeStage) + R"( : i32,
                    tile.tma_templates = [array<i32: 0, 64, 64>]} {
      %c0 = arith.constant 0 : i32
      %c1 = arith.constant 1 : i32
      %c2 = arith.constant 2 : i32
      %c3 = arith.constant 3 : i32
      %c5 = arith.constant 5 : i32
      %c6 = arith.constant 6 : i32
      %c7 = arith.constant 7 : i32
      %c8 = arith.constant 8 : i32
      %c16 = arith.constant 16 : i32
      %c31 = arith.constant 31 : i32
      %c32 = arith.constant 32 : i32
      %c63 = arith.constant 63 : i32
      %c64 = arith.constant 64 : i32
      %c128 = arith.constant 128 : i32
      %c136 = arith.constant 136 : i32
      %c144 = arith.constant 144 : i32
      %c152 = arith.constant 152 : i32
      %c1024 = arith.constant 1024 : i32
      %c_stage = arith.constant )" + num(kPipeStage) + R"( : i32
      %c_tile_elems = arith.constant )" + num(kPipeTileRows * kPipeCols) + R"( : i32
      %c_threads = arith.constant )" + num(threads) + R"( : i32
      %c_per_thread = arith.constant )" + num(perThread) + R"( : i32
      %c_reads = arith.constant )" + num(o.arriveBeforeLastRead ? perThread - 1 : perThread) + R"( : i32
      %c_empty_count = arith.constant )" + num(o.emptyCount < 0 ? o.warps : o.emptyCount) + R"( : i32
      %c_parity_flip = arith.constant )" + num(o.flipEmptyParity ? 1 : 0) + R"( : i32
      %c_writer = arith.constant )" + num(o.stageWriter) + R"( : i32
      %c_no_arrive = arith.constant )" + num(o.warpWithoutArrive) + R"( : i32
      %c128_i64 = arith.constant 128 : i64
      %zero_i64 = arith.constant 0 : i64
      %smem = llvm.mlir.addressof @tile_smem : !llvm.ptr<3>
      %tidx = gpu.thread_id x
      %tid = arith.index_cast %tidx : index to i32
      %is_t0 = arith.cmpi eq, %tid, %c0 : i32
      %is_w0 = arith.cmpi ult, %tid, %c32 : i32
      %lane = arith.andi %tid, %c31 : i32
      %warp_id = arith.shrui %tid, %c5 : i32
      %is_lane0 = arith.cmpi eq, %lane, %c0 : i32
      %arrives = arith.cmpi ne, %warp_id, %c_no_arrive : i32
      %lane0_arrives = arith.andi %is_lane0, %arrives : i1
      %is_writer = arith.cmpi eq, %tid, %c_writer : i32
      %smem_i64 = llvm.ptrtoint %smem : !llvm.ptr<3> to i64
      %smem_i32 = arith.trunci %smem_i64 : i64 to i32
      %map = arith.addi %smem_i32, %c0 : i32
      %full0 = arith.addi %smem_i32, %c128 : i32
      %full1 = arith.addi %smem_i32, %c136 : i32
      %empty0 = arith.addi %smem_i32, %c144 : i32
      %empty1 = arith.addi %smem_i32, %c152 : i32
      %stage0 = arith.addi %smem_i32, %c1024 : i32
      %ws_i64 = llvm.ptrtoint %ws : !llvm.ptr to i64
      %slot = arith.addi %ws_i64, %c128_i64 : i64
      %in_i64 = llvm.ptrtoint %in : !llvm.ptr to i64
      %cols = arith.addi %c64, %c0 : i32
      %row_stride = arith.addi %c128_i64, %zero_i64 : i64
      scf.if %is_w0 {
        scf.if %is_t0 {
          scf.for %i = %c0 to %c16 step %c1 : i32 {
            %src = llvm.getelementptr %ws[%i] : (!llvm.ptr, i32) -> !llvm.ptr, i64
            %word = llvm.load %src : !llvm.ptr -> i64
            %dst = llvm.getelementptr %smem[%i] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i64
            llvm.store %word, %dst : i64, !llvm.ptr<3>
          }
)";
  s += inlineAsm(ptx::kTensorMapSetAddress, "r,l", {{"%map", "i32"}, {"%in_i64", "i64"}});
  s += inlineAsm(ptx::kTensorMapSetDim0, "r,r", {{"%map", "i32"}, {"%cols", "i32"}});
  s += inlineAsm(ptx::kTensorMapSetDim1, "r,r", {{"%map", "i32"}, {"%rows", "i32"}});
  s += inlineAsm(ptx::kTensorMapSetStride0, "r,l", {{"%map", "i32"}, {"%row_stride", "i64"}});
  s += "        }\n";
  s += inlineAsm(ptx::kWarpSync, "", {});
  s += inlineAsm(ptx::kTensorMapPublish, "l,r", {{"%slot", "i64"}, {"%map", "i32"}});
  s += "      }\n      scf.if %is_t0 {\n";
  s += inlineAsm(ptx::kTensorMapAcquire, "l", {{"%slot", "i64"}});
  for (const char* b : {"%full0", "%full1"}) s += inlineAsm(ptx::kMbarrierInit, "r,r", {{b, "i32"}, {"%c1", "i32"}});
  for (const char* b : {"%empty0", "%empty1"}) s += inlineAsm(ptx::kMbarrierInit, "r,r", {{b, "i32"}, {"%c_empty_count", "i32"}});
  s += inlineAsm(ptx::kMbarrierInitFence, "", {});
  s += "      }\n      gpu.barrier\n      scf.if %is_t0 {\n";
  s += inlineAsm(ptx::kMbarrierArriveExpectTx, "r,r", {{"%full0", "i32"}, {"%c_stage", "i32"}});
  s += inlineAsm(ptx::kTmaLoad2d, "r,l,r,r,r", {{"%stage0", "i32"}, {"%slot", "i64"}, {"%c0", "i32"}, {"%c0", "i32"}, {"%full0", "i32"}});
  s += R"(      }
      scf.for %i = %c0 to %iters step %c1 : i32 {
        %s = arith.andi %i, %c1 : i32
        %use = arith.shrui %i, %c1 : i32
        %par = arith.andi %use, %c1 : i32
        %s8 = arith.muli %s, %c8 : i32
        %full = arith.addi %full0, %s8 : i32
        %empty = arith.addi %empty0, %s8 : i32
        %s_off = arith.muli %s, %c_stage : i32
        %stage_off = arith.addi %s_off, %c1024 : i32
        %n = arith.addi %i, %c1 : i32
        %ns = arith.andi %n, %c1 : i32
        %ns8 = arith.muli %ns, %c8 : i32
        %nfull = arith.addi %full0, %ns8 : i32
        %nempty = arith.addi %empty0, %ns8 : i32
        %ns_off = arith.muli %ns, %c_stage : i32
        %nstage_off = arith.addi %ns_off, %c1024 : i32
        %nstage = arith.addi %smem_i32, %nstage_off : i32
        %nrow = arith.muli %n, %c64 : i32
        %prev = arith.subi %n, %c2 : i32
        %prev_use = arith.shrui %prev, %c1 : i32
        %prev_par0 = arith.andi %prev_use, %c1 : i32
        %prev_par = arith.xori %prev_par0, %c_parity_flip : i32
        %more = arith.cmpi slt, %n, %iters : i32
        %reuse = arith.cmpi sge, %n, %c2 : i32
        %more_reuse = arith.andi %more, %reuse : i1
        %t0_more = arith.andi %is_t0, %more : i1
        %t0_reuse = arith.andi %is_t0, %more_reuse : i1
        %writer_reuse = arith.andi %is_writer, %more_reuse : i1
        scf.if %t0_reuse {
)";
  if (o.emptyWait) s += inlineAsm(ptx::kMbarrierWaitParity, "r,r", {{"%nempty", "i32"}, {"%prev_par", "i32"}});
  s += R"(        }
        scf.if %writer_reuse {
          %wp = llvm.getelementptr %smem[%nstage_off] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
          %wz = arith.constant dense<0> : vector<2xi64>
          llvm.store %wz, %wp : vector<2xi64>, !llvm.ptr<3>
        }
        scf.if %t0_more {
)";
  s += inlineAsm(ptx::kMbarrierArriveExpectTx, "r,r", {{"%nfull", "i32"}, {"%c_stage", "i32"}});
  s += inlineAsm(ptx::kTmaLoad2d, "r,l,r,r,r", {{"%nstage", "i32"}, {"%slot", "i64"}, {"%c0", "i32"}, {"%nrow", "i32"}, {"%nfull", "i32"}});
  s += "        }\n";
  s += inlineAsm(ptx::kMbarrierWaitParity, "r,r", {{"%full", "i32"}, {"%par", "i32"}});
  // Element e = tid + threads * j of the 64 x 64 tile: row e / 64, column e % 64, 16-byte unit
  // (column / 8) swizzled with the row.
  std::string read = R"(
        scf.for %j_R = %LO to %HI step %c1 : i32 {
          %e0_R = arith.muli %j_R, %c_threads : i32
          %e_R = arith.addi %e0_R, %tid : i32
          %row_R = arith.shrui %e_R, %c6 : i32
          %col_R = arith.andi %e_R, %c63 : i32
          %unit_R = arith.shrui %col_R, %c3 : i32
          %sw_R = arith.andi %row_R, %c7 : i32
          %unit_sw_R = arith.xori %unit_R, %sw_R : i32
          %in_unit_R = arith.andi %col_R, %c7 : i32
          %row_off_R = arith.muli %row_R, %c128 : i32
          %unit_off_R = arith.muli %unit_sw_R, %c16 : i32
          %byte_off_R = arith.muli %in_unit_R, %c2 : i32
          %o1_R = arith.addi %row_off_R, %unit_off_R : i32
          %o2_R = arith.addi %o1_R, %byte_off_R : i32
          %o3_R = arith.addi %o2_R, %stage_off : i32
          %p_R = llvm.getelementptr %smem[%o3_R] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
          %v_R = llvm.load %p_R : !llvm.ptr<3> -> i16
          %tile_R = arith.muli %i, %c_tile_elems : i32
          %oi_R = arith.addi %tile_R, %e_R : i32
          %q_R = llvm.getelementptr %out[%oi_R] : (!llvm.ptr, i32) -> !llvm.ptr, i16
          llvm.store %v_R, %q_R : i16, !llvm.ptr
        }
)";
  auto reads = [&](const std::string& tag, const std::string& lo, const std::string& hi) {
    std::string r = read;
    replaceAll(r, "%LO", lo);
    replaceAll(r, "%HI", hi);
    replaceAll(r, "_R", "_" + tag);
    return r;
  };
  s += reads("a", "%c0", "%c_reads");
  if (o.warpSyncBeforeArrive) s += inlineAsm(ptx::kWarpSync, "", {});
  s += "        scf.if %lane0_arrives {\n" + inlineAsm(ptx::kMbarrierArrive, "r", {{"%empty", "i32"}}) + "        }\n";
  if (o.arriveBeforeLastRead) s += reads("b", "%c_reads", "%c_per_thread");
  s += "      }\n      gpu.barrier\n      scf.if %is_t0 {\n";
  for (const char* b : {"%full0", "%full1", "%empty0", "%empty1"}) s += inlineAsm(ptx::kMbarrierInval, "r", {{b, "i32"}});
  s += "      }\n      gpu.return\n    }\n  }\n}\n";
  return s;
}

// Runs the pipeline kernel on a tensor of iters * 64 - 10 rows (the last tile is partly zero
// fill); on success checks every tile of the output.
std::string runPipeline(const PipeOptions& o) {
  Module m(pipelineKernel(o));
  int rows = o.iters * kPipeTileRows - 10;
  std::mt19937 gen(99);
  std::uniform_real_distribution<float> dist(0.5f, 2.0f);
  std::vector<uint16_t> x(size_t(rows) * kPipeCols);
  for (auto& v : x) v = sim::toBf16(dist(gen) * (gen() & 1 ? 1.0f : -1.0f));
  sim::Buffer in, out;
  in.bytes.resize(x.size() * 2);
  std::memcpy(in.bytes.data(), x.data(), in.bytes.size());
  size_t tile = size_t(kPipeTileRows) * kPipeCols;
  out.bytes.assign(tile * size_t(o.iters) * 2, 0xFF);  // poisoned: 0xFFFF is a bf16 NaN
  std::vector<sim::Buffer> bufs = {in, out};
  std::string err = sim::run(*m.module, "pipe", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::i32(rows), sim::Arg::i32(o.iters)},
                             bufs, 1);
  if (!err.empty()) return err;
  for (int r = 0; r < o.iters * kPipeTileRows; ++r)
    for (int c = 0; c < kPipeCols; ++c) {
      uint16_t want = r < rows ? x[size_t(r) * kPipeCols + size_t(c)] : 0, got;
      std::memcpy(&got, &bufs[1].bytes[(size_t(r) * kPipeCols + size_t(c)) * 2], 2);
      if (got != want) {
        INFO("row " << r << " col " << c);
        REQUIRE(got == want);
      }
    }
  return "";
}

}  // namespace

TEST_CASE("TMA: tensor map from the workspace template, two rounds on one mbarrier, out-of-bounds fill", "[simt][tma]") {
  Options o;
  REQUIRE(runKernel(o) == "");
  // Per-block slots with two templates, a negative column in round 1 and rows past the end
  // in round 2.
  o.templates = 2;
  REQUIRE(runKernel(o, 2, {-40, 10}, {90, 80}, 7) == "");
  // Wholly outside the tensor: all zeros, still all of the transaction bytes.
  REQUIRE(runKernel(Options{}, 1, {200, 0}, {0, -64}, 0) == "");
  // Re-initialisation after mbarrier.inval is allowed.
  o = Options{};
  o.initTwice = o.invalBetweenInits = true;
  REQUIRE(runKernel(o) == "");
}

TEST_CASE("TMA mutations: mbarrier transaction accounting", "[simt][tma]") {
  Options o;
  o.expectTx = false;
  REQUIRE_THAT(runKernel(o), Contains("mbarrier wait can never complete") && Contains("arrivals pending 1"));
  o = Options{};
  o.expectBytes = kBoxBytes;  // one box's bytes for two boxes
  REQUIRE_THAT(runKernel(o), Contains("arrive.expect_tx announced fewer bytes than the copies deliver"));
  o = Options{};
  o.expectBytes = 3 * kBoxBytes;
  REQUIRE_THAT(runKernel(o), Contains("mbarrier wait can never complete") && Contains("tx pending 8192"));
  o = Options{};
  o.extraArrive = true;
  REQUIRE_THAT(runKernel(o), Contains("mbarrier arrival beyond its count"));
}

TEST_CASE("TMA mutations: waits and the buffer's hand-over", "[simt][tma]") {
  Options o;
  o.parity[1] = 0;  // the second round waits for the phase that already completed
  REQUIRE_THAT(runKernel(o), Contains("shared memory read of a TMA destination before its mbarrier wait"));
  o = Options{};
  o.parity[0] = 1;  // parity 1 of a fresh barrier counts as the phase before phase 0: no wait
  REQUIRE_THAT(runKernel(o), Contains("shared memory read of a TMA destination before its mbarrier wait"));
  o = Options{};
  o.readBeforeWait = true;
  REQUIRE_THAT(runKernel(o), Contains("shared memory read of a TMA destination before its mbarrier wait"));
  o = Options{};
  o.onlyThread0Waits = true;
  REQUIRE_THAT(runKernel(o), Contains("which neither waited on its mbarrier"));
  o = Options{};
  o.barrierBeforeReissue = false;
  REQUIRE_THAT(runKernel(o), Contains("shared memory race: TMA issued into"));
  o = Options{};
  o.round2Wait = o.round2Reads = false;
  REQUIRE_THAT(runKernel(o), Contains("mbarrier.inval of the barrier at smem offset 128 with a TMA copy still completing"));
  o.invalAtEnd = false;
  REQUIRE_THAT(runKernel(o), Contains("the kernel ended with a TMA copy in flight"));
  o = Options{};
  o.bufOffset = 512;
  REQUIRE_THAT(runKernel(o), Contains("not 1024-byte aligned"));
}

TEST_CASE("TMA mutations: mbarrier life cycle", "[simt][tma]") {
  Options o;
  o.barrierAfterInit = false;
  REQUIRE_THAT(runKernel(o), Contains("before a barrier after its init by thread 0"));
  o = Options{};
  o.initFence = false;
  REQUIRE_THAT(runKernel(o), Contains("with no fence.mbarrier_init after its init by thread 0"));
  o = Options{};
  o.initTwice = true;
  REQUIRE_THAT(runKernel(o), Contains("mbarrier.init over the live mbarrier"));
  o = Options{};
  o.storeToBarrier = true;
  REQUIRE_THAT(runKernel(o), Contains("ordinary shared memory write to the live mbarrier"));
}

TEST_CASE("TMA mutations: tensor maps", "[simt][tma]") {
  Options o;
  o.acquire = false;
  REQUIRE_THAT(runKernel(o), Contains("TMA through a tensor map that was not published/acquired") && Contains("did not acquire"));
  o = Options{};
  o.acquireBeforePublish = true;
  REQUIRE_THAT(runKernel(o), Contains("TMA through a tensor map that was not published/acquired") && Contains("did not acquire"));
  o = Options{};
  o.publish = false;
  REQUIRE_THAT(runKernel(o), Contains("TMA through a tensor map that was not published/acquired") && Contains("nothing was published"));
  o = Options{};
  o.tmaThroughTemplate = true;
  REQUIRE_THAT(runKernel(o), Contains("TMA through a tensor map that was not published/acquired"));
  o = Options{};
  o.publishLane0Only = true;
  REQUIRE_THAT(runKernel(o), Contains("warp-collective") && Contains("1 of 32 lanes"));
  o = Options{};
  o.warpSyncLane0Only = true;
  REQUIRE_THAT(runKernel(o), Contains("bar.warp.sync -1 reached by 1 of 32 lanes"));
  o = Options{};
  o.slotOfBlock0 = true;
  REQUIRE_THAT(runKernel(o), Contains("not one of block 1's workspace slots"));
  o = Options{};
  o.copyTemplate = false;
  REQUIRE_THAT(runKernel(o), Contains("not a copy of a workspace template"));
  o = Options{};
  o.setDim1 = false;
  REQUIRE_THAT(runKernel(o), Contains("global dims not set"));
  o = Options{};
  o.dim1Extra = 8;  // the last block's map reaches past its buffer
  REQUIRE_THAT(runKernel(o), Contains("global access out of bounds"));
}

TEST_CASE("TMA pipeline: stages handed back through empty mbarriers, no block-wide barrier in the loop", "[simt][tma]") {
  PipeOptions o;
  REQUIRE(runPipeline(o) == "");
  o.warps = 8;
  o.iters = 6;
  REQUIRE(runPipeline(o) == "");
  // The waiter's own ordinary writes into the stage are ordered after the released reads.
  o = PipeOptions{};
  o.stageWriter = 0;
  REQUIRE(runPipeline(o) == "");
}

TEST_CASE("TMA pipeline mutations: the empty barriers' hand-over", "[simt][tma]") {
  PipeOptions o;
  o.emptyWait = false;  // TMA overwrites a stage other warps still read
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: TMA issued into") && Contains("read,"));
  o = PipeOptions{};
  o.warpWithoutArrive = 2;
  REQUIRE_THAT(runPipeline(o), Contains("mbarrier wait can never complete: barrier at smem offset 144") &&
                                   Contains("arrivals pending 1"));
  o = PipeOptions{};
  o.arriveBeforeLastRead = true;  // the warps' last reads (row 62 of the tile) are not released
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: TMA issued into smem offset 8960") && Contains("read,"));
  o = PipeOptions{};
  o.warpSyncBeforeArrive = false;  // lane 0's arrive releases only lane 0's reads
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: TMA issued into smem offset 1026") &&
                                   Contains("which thread 1 read"));
  o = PipeOptions{};
  o.flipEmptyParity = true;  // parity 1 on a barrier in phase 0 passes at once
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: TMA issued into") && Contains("read,"));
  o = PipeOptions{};
  o.emptyCount = 1;  // warp 0's arrival completes the phase: the copy races with warp 1's reads
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: TMA issued into") && Contains("which thread 32 read"));
  o = PipeOptions{};
  o.stageWriter = 32;  // did not wait on the empty barrier: not ordered after the other warps' reads
  REQUIRE_THAT(runPipeline(o), Contains("shared memory race: write after another thread's read") &&
                                   Contains("written by thread 32"));
}

namespace {

// ---- bulk reduce-add: warps stage rows in shared memory, lanes add them to global rows -------
// The shape the lowering gives atomic_add_block of f32 (emit_bulk_reduce.cc). Each of the 4
// warps owns a staging region of 4 rows x 32 f32 (128-byte rows) at kBulkRegion0 + 512 warp.
// Per iteration i (the loop runs `iters` times over the same regions): every lane waits until
// its earlier reduces have read their source (wait_group.read 0), bar.warp.sync, then lane l
// stores column l of the region's 4 rows (value 1 + l + 32 r + 128 warp + 512 i + 2048 block),
// fence.proxy.async, bar.warp.sync; lanes 0..3 then add region row `lane` to global row
// (4 warp + lane + 2 i) % 16 (+ rowShift) of a 16 x 32 f32 output, as two 64-byte segments;
// every lane commits. At the end every thread waits with wait_group 0. Warps and iterations
// hit overlapping rows, and every block adds into the same output.
constexpr int kBulkRegion0 = 256, kBulkRegionBytes = 512, kBulkOutRows = 16, kBulkCols = 32;

struct BulkOptions {
  int iters = 2;
  bool waitRead = true;       // wait_group.read 0 before re-writing the region
  bool syncAfterWait = true;  // bar.warp.sync between that wait and the stores
  bool fence = true;
  bool fenceAfterSync = false;  // fence.proxy.async after the bar.warp.sync instead of before
  bool syncBeforeIssue = true;
  bool commit = true;
  const char* finalWait = ptx::kBulkWaitGroup0;  // nullptr: none
  int srcShift = 0, dstShift = 0;  // bytes added to the reduce's shared / global address
  int segBytes = 64;               // bytes per reduce (two per row at 64)
  int rowShift = 0;                // added to the global row
  bool cpAsyncOverSource = false;  // thread 0 cp.asyncs into region 0 after the issue
};

std::string bulkKernel(const BulkOptions& o) {
  auto num = [](int v) { return std::to_string(v); };
  std::string s = R"(
module attributes {gpu.container_module} {
  gpu.module @kernels {
    llvm.mlir.global external @tile_smem() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
    gpu.func @bulk_add(%out: !llvm.ptr, %iters: i32) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>, tile.num_warps = 4 : i32,
                    tile.smem_bytes = )" + num(kBulkRegion0 + 4 * kBulkRegionBytes) + R"( : i32} {
      %c0 = arith.constant 0 : i32
      %c1 = arith.constant 1 : i32
      %c2 = arith.constant 2 : i32
      %c4 = arith.constant 4 : i32
      %c5 = arith.constant 5 : i32
      %c15 = arith.constant 15 : i32
      %c31 = arith.constant 31 : i32
      %c32 = arith.constant 32 : i32
      %c128 = arith.constant 128 : i32
      %c512 = arith.constant 512 : i32
      %c2048 = arith.constant 2048 : i32
      %c_region0 = arith.constant )" + num(kBulkRegion0) + R"( : i32
      %c_seg = arith.constant )" + num(o.segBytes) + R"( : i32
      %c_src_shift = arith.constant )" + num(o.srcShift) + R"( : i32
      %c_row_shift = arith.constant )" + num(o.rowShift) + R"( : i32
      %c_dst_shift = arith.constant )" + num(o.dstShift) + R"( : i64
      %c64_i64 = arith.constant 64 : i64
      %c128_i64 = arith.constant 128 : i64
      %smem = llvm.mlir.addressof @tile_smem : !llvm.ptr<3>
      %tidx = gpu.thread_id x
      %tid = arith.index_cast %tidx : index to i32
      %bidx = gpu.block_id x
      %bx = arith.index_cast %bidx : index to i32
      %lane = arith.andi %tid, %c31 : i32
      %warp = arith.shrui %tid, %c5 : i32
      %issuer = arith.cmpi ult, %lane, %c4 : i32
      %is_t0 = arith.cmpi eq, %tid, %c0 : i32
      %smem_i64 = llvm.ptrtoint %smem : !llvm.ptr<3> to i64
      %smem_i32 = arith.trunci %smem_i64 : i64 to i32
      %warp_off = arith.muli %warp, %c512 : i32
      %region = arith.addi %warp_off, %c_region0 : i32
      %lane_off = arith.muli %lane, %c4 : i32
      %col_off = arith.addi %region, %lane_off : i32
      %out_i64 = llvm.ptrtoint %out : !llvm.ptr to i64
      %v_lane = arith.addi %lane, %c1 : i32
      %v_warp = arith.muli %warp, %c128 : i32
      %v_block = arith.muli %bx, %c2048 : i32
      %v0 = arith.addi %v_lane, %v_warp : i32
      %v1 = arith.addi %v0, %v_block : i32
      %warp_row = arith.muli %warp, %c4 : i32
      scf.for %i = %c0 to %iters step %c1 : i32 {
)";
  std::string sync = inlineAsm(ptx::kWarpSync, "", {});
  std::string fence = inlineAsm(ptx::kFenceProxyAsyncShared, "", {});
  if (o.waitRead) s += inlineAsm(ptx::kBulkWaitGroupRead0, "", {});
  if (o.syncAfterWait) s += sync;
  s += R"(
        %v_iter = arith.muli %i, %c512 : i32
        %v2 = arith.addi %v1, %v_iter : i32
        scf.for %r = %c0 to %c4 step %c1 : i32 {
          %v_row = arith.muli %r, %c32 : i32
          %v3 = arith.addi %v2, %v_row : i32
          %v = arith.sitofp %v3 : i32 to f32
          %row_off = arith.muli %r, %c128 : i32
          %off = arith.addi %col_off, %row_off : i32
          %p = llvm.getelementptr %smem[%off] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
          llvm.store %v, %p : f32, !llvm.ptr<3>
        }
)";
  if (o.fence && !o.fenceAfterSync) s += fence;
  if (o.syncBeforeIssue) s += sync;
  if (o.fence && o.fenceAfterSync) s += fence;
  s += R"(
        scf.if %issuer {
          %i2 = arith.muli %i, %c2 : i32
          %g0 = arith.addi %warp_row, %lane : i32
          %g1 = arith.addi %g0, %i2 : i32
          %g2 = arith.andi %g1, %c15 : i32
          %g = arith.addi %g2, %c_row_shift : i32
          %g_i64 = arith.extui %g : i32 to i64
          %g_off = arith.muli %g_i64, %c128_i64 : i64
          %dst_row0 = arith.addi %out_i64, %g_off : i64
          %dst_row = arith.addi %dst_row0, %c_dst_shift : i64
          %src_row0 = arith.muli %lane, %c128 : i32
          %src_row1 = arith.addi %src_row0, %region : i32
          %src_row2 = arith.addi %src_row1, %c_src_shift : i32
          %src_row = arith.addi %src_row2, %smem_i32 : i32
          %src_hi = arith.addi %src_row, %c_seg : i32
          %seg_i64 = arith.extui %c_seg : i32 to i64
          %dst_hi = arith.addi %dst_row, %seg_i64 : i64
)";
  s += inlineAsm(ptx::kBulkReduceAddF32, "l,r,r", {{"%dst_row", "i64"}, {"%src_row", "i32"}, {"%c_seg", "i32"}});
  if (o.segBytes == 64) s += inlineAsm(ptx::kBulkReduceAddF32, "l,r,r", {{"%dst_hi", "i64"}, {"%src_hi", "i32"}, {"%c_seg", "i32"}});
  s += "        }\n";
  if (o.cpAsyncOverSource)
    s += R"(
        scf.if %is_t0 {
          %cp_dst = llvm.getelementptr %smem[%c_region0] : (!llvm.ptr<3>, i32) -> !llvm.ptr<3>, i8
          %cp_src = llvm.addrspacecast %out : !llvm.ptr to !llvm.ptr<1>
          nvvm.cp.async.shared.global %cp_dst, %cp_src, 16, cache = cg : !llvm.ptr<3>, !llvm.ptr<1>
          nvvm.cp.async.commit.group
          nvvm.cp.async.wait.group 0
        }
)";
  if (o.commit) s += inlineAsm(ptx::kBulkCommitGroup, "", {});
  s += "      }\n";
  if (o.finalWait) s += inlineAsm(o.finalWait, "", {});
  s += "      gpu.return\n    }\n  }\n}\n";
  return s;
}

// Runs the bulk kernel over `blocks` blocks; on success checks every output element exactly
// (the values are small integers on a quarter-integer start, so every sum is exact).
std::string runBulk(const BulkOptions& o, int blocks = 3) {
  Module m(bulkKernel(o));
  std::vector<float> want(size_t(kBulkOutRows) * kBulkCols);
  for (size_t k = 0; k < want.size(); ++k) want[k] = 0.25f * float(k % 7);
  sim::Buffer out;
  out.bytes.resize(want.size() * 4);
  std::memcpy(out.bytes.data(), want.data(), out.bytes.size());
  for (int b = 0; b < blocks; ++b)
    for (int i = 0; i < o.iters; ++i)
      for (int w = 0; w < 4; ++w)
        for (int lane = 0; lane < 4; ++lane)
          for (int c = 0; c < kBulkCols; ++c) {
            int g = (4 * w + lane + 2 * i) % kBulkOutRows;
            want[size_t(g * kBulkCols + c)] += float(1 + c + 32 * lane + 128 * w + 512 * i + 2048 * b);
          }
  std::vector<sim::Buffer> bufs = {out};
  std::string err = sim::run(*m.module, "bulk_add", {sim::Arg::buf(0), sim::Arg::i32(o.iters)}, bufs, blocks);
  if (!err.empty()) return err;
  std::vector<float> got(want.size());
  std::memcpy(got.data(), bufs[0].bytes.data(), bufs[0].bytes.size());
  for (size_t k = 0; k < want.size(); ++k) {
    INFO("row " << k / kBulkCols << " col " << k % kBulkCols);
    REQUIRE(got[k] == want[k]);
  }
  return "";
}

}  // namespace

TEST_CASE("Bulk reduce-add: warps stage rows, lanes add them into shared global rows, two rounds", "[simt][bulk]") {
  BulkOptions o;
  int64_t issued = sim::async::bulkReducesIssued();
  REQUIRE(runBulk(o) == "");
  REQUIRE(sim::async::bulkReducesIssued() - issued == 3 * 2 * 4 * 4 * 2);  // blocks, rounds, warps, lanes, halves
  o.iters = 3;
  REQUIRE(runBulk(o, 2) == "");
  // One 128-byte reduce per row instead of two halves.
  o = BulkOptions{};
  o.segBytes = 128;
  REQUIRE(runBulk(o) == "");
}

TEST_CASE("Bulk reduce-add mutations: groups and waits", "[simt][bulk]") {
  BulkOptions o;
  o.waitRead = false;  // round 2 re-writes the region the reduces of round 1 still read
  REQUIRE_THAT(runBulk(o), Contains("shared memory write to smem offset 256 by thread 0 while a bulk reduce-add (thread 0) "
                                    "still reads it: cp.async.bulk.wait_group.read missing"));
  o = BulkOptions{};
  o.commit = false;  // a wait covers committed groups only
  REQUIRE_THAT(runBulk(o), Contains("cp.async.bulk.wait_group.read missing"));
  o = BulkOptions{};
  o.syncAfterWait = false;  // lane 0's wait is not ordered before lane 1's store
  REQUIRE_THAT(runBulk(o), Contains("shared memory race: write after another thread's read without a barrier (smem offset 260, "
                                    "read by thread 0, written by thread 1)"));
  o = BulkOptions{};
  o.finalWait = nullptr;
  REQUIRE_THAT(runBulk(o), Contains("kernel ended with a bulk reduce-add in flight: thread 0 issued one that no "
                                    "cp.async.bulk.wait_group 0 completed"));
  o.finalWait = ptx::kBulkWaitGroupRead0;  // read, not completed
  REQUIRE_THAT(runBulk(o), Contains("kernel ended with a bulk reduce-add in flight"));
  o = BulkOptions{};
  o.commit = false;
  o.iters = 1;
  REQUIRE_THAT(runBulk(o), Contains("kernel ended with a bulk reduce-add in flight: thread 0 issued one it never committed"));
  o = BulkOptions{};
  o.cpAsyncOverSource = true;
  REQUIRE_THAT(runBulk(o), Contains("shared memory write to smem offset 256 by thread 0 while a bulk reduce-add"));
}

TEST_CASE("Bulk reduce-add mutations: the staged source", "[simt][bulk]") {
  BulkOptions o;
  o.fence = false;
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0 reads smem offset 256, written by thread 0 with no "
                                    "fence.proxy.async.shared::cta of that thread between the write and the issue"));
  o = BulkOptions{};
  o.fenceAfterSync = true;  // lane 1's fence is not ordered before lane 0's issue
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0 reads smem offset 260, written by thread 1 with no "
                                    "fence.proxy.async.shared::cta"));
  o = BulkOptions{};
  o.syncBeforeIssue = false;
  REQUIRE_THAT(runBulk(o), Contains("shared memory race: bulk reduce-add by thread 0 reads smem offset 260, written by "
                                    "thread 1 with no bar.warp.sync or barrier between that write and the issue"));
}

TEST_CASE("Bulk reduce-add mutations: addresses and sizes", "[simt][bulk]") {
  BulkOptions o;
  o.srcShift = 4;
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0: shared address smem offset 260 is not 16-byte aligned"));
  o = BulkOptions{};
  o.dstShift = 8;
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0: global address") && Contains("is not 16-byte aligned"));
  o = BulkOptions{};
  o.segBytes = 24;
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0: byte count 24 is not a positive multiple of 16"));
  o.segBytes = 0;
  REQUIRE_THAT(runBulk(o), Contains("byte count 0 is not a positive multiple of 16"));
  o = BulkOptions{};
  o.segBytes = 4096;
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 0: source smem offset 256 + 4096 bytes is outside shared memory"));
  o = BulkOptions{};
  o.rowShift = 1;  // warp 3's lane 3 adds to row 16 of 16
  REQUIRE_THAT(runBulk(o), Contains("bulk reduce-add by thread 99 into global") &&
                               Contains("global access out of bounds (buffer 0, byte 2048)"));
}
