// Numerics of the lowered kernels: each test kernel goes through lower_tile_to_gpu, the
// resulting gpu.func is run by the SIMT simulator (simt_sim.h) on random inputs and compared
// with a double-precision reference. Output buffers are poisoned with NaN and sized exactly,
// so unwritten elements, writes outside the tile's bounds and out-of-bounds reads all fail.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <tuple>

#include "dsl/ir/TileDialect.h"
#include "lowering/pipeline.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "tests/lowering/simt_async.h"
#include "tests/lowering/simt_sim.h"

namespace sim = tile::lowering::sim;

namespace {

struct Lowered {
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  explicit Lowered(const std::string& file) {
    mlir::DialectRegistry registry;
    tile::ir::registerTileDialects(registry);
    tile::lowering::registerLowering(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = mlir::parseSourceFile<mlir::ModuleOp>("tests/lowering/" + file, &ctx);
    REQUIRE(module);
    REQUIRE(mlir::succeeded(tile::lowering::lower_tile_to_gpu(*module)));
  }
};

std::mt19937& rng() {
  static std::mt19937 gen([] {
    unsigned seed = std::random_device{}();
    std::printf("simt_test seed %u\n", seed);
    return seed;
  }());
  return gen;
}
float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng()); }

sim::Buffer f32Buffer(const std::vector<float>& v) {
  sim::Buffer b;
  b.bytes.resize(v.size() * 4);
  std::memcpy(b.bytes.data(), v.data(), b.bytes.size());
  return b;
}
std::vector<float> f32Values(const sim::Buffer& b) {
  std::vector<float> v(b.bytes.size() / 4);
  std::memcpy(v.data(), b.bytes.data(), b.bytes.size());
  return v;
}
// Random bf16 values (returned rounded, as floats) and their buffer.
sim::Buffer bf16Random(size_t n, std::vector<float>& rounded, float lo = -1, float hi = 1) {
  sim::Buffer b;
  b.bytes.resize(n * 2);
  rounded.resize(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = sim::toBf16(uniform(lo, hi));
    rounded[i] = sim::fromBf16(h);
    std::memcpy(&b.bytes[i * 2], &h, 2);
  }
  return b;
}
sim::Buffer bf16Poison(size_t n) {
  sim::Buffer b;
  b.bytes.assign(n * 2, 0xFF);  // 0xFFFF is a bf16 NaN
  return b;
}
float bf16At(const sim::Buffer& b, size_t i) {
  uint16_t h;
  std::memcpy(&h, &b.bytes[i * 2], 2);
  return sim::fromBf16(h);
}

}  // namespace

TEST_CASE("vector add: masked tail, vectorised gathers", "[simt]") {
  Lowered k("vector_add.mlir");
  int n = 2500;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = uniform(-4, 4), y[i] = uniform(-4, 4);
  std::vector<sim::Buffer> bufs = {f32Buffer(x), f32Buffer(y), f32Buffer(std::vector<float>(n, NAN))};
  std::string err = sim::run(*k.module, "vector_add", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::i32(n)}, bufs, 3);
  REQUIRE(err == "");
  auto out = f32Values(bufs[2]);
  for (int i = 0; i < n; ++i) REQUIRE(out[i] == x[i] + y[i]);
}

namespace {
// softmax of row r (cols values starting at r * stride of x) in double precision.
std::vector<double> softmaxRow(const std::vector<float>& x, int r, int cols, int stride) {
  double m = -INFINITY, s = 0;
  for (int c = 0; c < cols; ++c) m = std::max(m, double(x[size_t(r) * stride + c]));
  std::vector<double> out(static_cast<size_t>(cols));
  for (int c = 0; c < cols; ++c) s += (out[size_t(c)] = std::exp(double(x[size_t(r) * stride + c]) - m));
  for (double& v : out) v /= s;
  return out;
}

// An f32 row softmax kernel (x, out, rows, cols, row_stride) run on `rows` rows of `cols`
// values `stride` apart, `rowsPerBlock` rows per block, against double precision; the padding
// between rows must stay unwritten (NaN).
void checkF32Softmax(Lowered& k, const std::string& kernel, int rowsPerBlock, int rows, int cols, int stride) {
  size_t n = size_t(rows - 1) * stride + cols;
  std::vector<float> x(n);
  for (auto& v : x) v = uniform(-3, 3);
  std::vector<sim::Buffer> bufs = {f32Buffer(x), f32Buffer(std::vector<float>(n, NAN))};
  std::string err = sim::run(*k.module, kernel,
                             {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::i32(rows), sim::Arg::i32(cols), sim::Arg::i32(stride)},
                             bufs, (rows + rowsPerBlock - 1) / rowsPerBlock);
  REQUIRE(err == "");
  auto out = f32Values(bufs[1]);
  for (int r = 0; r < rows; ++r) {
    std::vector<double> ref = softmaxRow(x, r, cols, stride);
    for (int c = 0; c < cols; ++c) {
      double want = ref[size_t(c)];
      INFO("stride " << stride << " row " << r << " col " << c);
      REQUIRE(std::fabs(out[size_t(r) * stride + c] - want) <= 1e-6 + 1e-5 * want);
    }
    if (r + 1 < rows)
      for (int c = cols; c < stride; ++c) REQUIRE(std::isnan(out[size_t(r) * stride + c]));
  }
}
}  // namespace

TEST_CASE("row softmax: bounds-masked block loads (vector and element paths), row reductions", "[simt]") {
  Lowered k("softmax.mlir");
  for (int stride : {256, 203})  // 256: 16-byte vector path; 203: unaligned rows, element path
    checkF32Softmax(k, "row_softmax", 16, 37, 200, stride);
}

TEST_CASE("GEMM: wgmma (A from ldmatrix or a descriptor), cp.async pipeline, tails in M, N and K", "[simt]") {
  struct Case {
    const char* file;
    int M, N, K, gridX, gridY;
    bool tma;  // the loop's TMA version runs (every TMA-capable load's rows 16-byte aligned)
  };
  // The DSL's GEMM: 128x128x64 tiles, 8 warps (2x4 grid), 3 stages, grouped program ids;
  // K = 150 makes A's rows unaligned: the loop's cp.async version runs, A on its element-wise
  // path; K = 344 runs the TMA version with a K tail and 6 iterations over 3 stages, so stages
  // are refilled after the warps handed them back.
  for (Case cs : {Case{"gemm.mlir", 96, 80, 136, 2, 2, true}, Case{"pipelined_loop_to_gpu.mlir", 96, 80, 136, 2, 2, true},
                  Case{"dsl_gemm_bf16.mlir", 200, 136, 150, 4, 1, false}, Case{"dsl_gemm_bf16.mlir", 200, 136, 344, 4, 1, true},
                  // With a producer warpgroup (128x256 tiles, 4 stages): its copies, the consumers'
                  // waits and hand-backs over 6 iterations, tails in M, N and K.
                  Case{"dsl_gemm_bf16_ws.mlir", 200, 328, 344, 4, 1, true}}) {
    const char* file = cs.file;
    Lowered k(file);
    const int64_t tmaBefore = sim::async::tmaCopiesIssued();
    int M = cs.M, N = cs.N, K = cs.K;
    std::vector<float> a, b;
    std::vector<sim::Buffer> bufs = {bf16Random(size_t(M) * K, a), bf16Random(size_t(K) * N, b),
                                     f32Buffer(std::vector<float>(size_t(M) * N, NAN))};
    std::string err = sim::run(*k.module, "gemm",
                               {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::i32(M), sim::Arg::i32(N),
                                sim::Arg::i32(K), sim::Arg::i32(K), sim::Arg::i32(N), sim::Arg::i32(N)},
                               bufs, cs.gridX, cs.gridY);
    REQUIRE(err == "");
    INFO(file << " K = " << K);
    if (cs.tma) CHECK(sim::async::tmaCopiesIssued() > tmaBefore);
    else CHECK(sim::async::tmaCopiesIssued() == tmaBefore);
    auto c = f32Values(bufs[2]);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double want = 0;
        for (int kk = 0; kk < K; ++kk) want += double(a[size_t(i) * K + kk]) * b[size_t(kk) * N + j];
        INFO(file << " C[" << i << "][" << j << "]");
        REQUIRE(std::fabs(c[size_t(i) * N + j] - want) <= 1e-4 * K);
      }
  }
}

TEST_CASE("attention forward: online softmax over masked key blocks, P in bf16, LSE", "[simt]") {
  // attention_rotated: block j's softmax runs while block j-1's P V is in flight.
  // attention_turns: the same with 128 rows over two warpgroups taking turns at their dots.
  // attention_specialized: 128 rows over two consumer warpgroups fed by a producer warpgroup.
  // attention_specialized_turns: the same, the consumer warpgroups taking turns at their dots.
  auto [file, kernel, rows] = GENERATE(std::make_tuple("attention.mlir", "attn_fwd", 64),
                                       std::make_tuple("attention_rotated.mlir", "attn_fwd_rotated", 64),
                                       std::make_tuple("attention_turns.mlir", "attn_fwd_turns", 128),
                                       std::make_tuple("attention_specialized.mlir", "attn_fwd_specialized", 128),
                                       std::make_tuple("attention_specialized_turns.mlir", "attn_fwd_specialized_turns", 128),
                                       std::make_tuple("attention_ring.mlir", "attn_fwd_ring", 128),
                                       std::make_tuple("attention_persistent.mlir", "attn_fwd_persistent", 128),
                                       std::make_tuple("attention_persistent_two_versions.mlir",
                                                       "attn_fwd_persistent_two_versions", 128),
                                       std::make_tuple("attention_persistent_peeled.mlir", "attn_fwd_persistent_peeled", 128),
                                       std::make_tuple("attention_persistent_edge_first.mlir",
                                                       "attn_fwd_persistent_edge_first", 128),
                                       std::make_tuple("attention_reuse.mlir", "attn_fwd_reuse", 128));
  // attention_ring: K and V rings shared by sibling loops; at 100 keys its middle loops run no
  // iteration. attention_reuse: the loop's stage buffers reuse a tile staged before it.
  // attention_persistent: the ring kernel inside a loop over query tiles, on 2 programs: at
  // 330 rows program 0 takes tiles 0 and 2 (its rings carried from one to the next), at 100
  // program 1 has no tile.
  // attention_persistent_two_versions: the same without argument assumptions (the loops of
  // each tile meet the producer before and after them).
  // attention_persistent_peeled: the persistent kernel with the middle's first block peeled off
  // (a loop reading K alone before the rotated one).
  // attention_persistent_edge_first: the peeled block is the ragged end's last block, masked,
  // as the DSL forward runs it; at 320 rows (no ragged end) the first whole block.
  const bool persistent = std::string(kernel).rfind("attn_fwd_persistent", 0) == 0;
  const bool ring = std::string(kernel) == "attn_fwd_ring";
  const bool edge_first = std::string(kernel) == "attn_fwd_persistent_edge_first";
  const int S = edge_first ? GENERATE(330, 100, 320) : persistent ? GENERATE(330, 100) : ring ? GENERATE(230, 100) : 230;
  INFO(file << " S=" << S);
  Lowered k(file);
  if (std::string(kernel).rfind("attn_fwd_specialized", 0) == 0 || ring || persistent ||
      std::string(kernel) == "attn_fwd_reuse") {
    bool specialised = false;
    k.module->walk([&](mlir::gpu::GPUFuncOp f) { specialised |= f->hasAttr("tile.consumer_warps"); });
    REQUIRE(specialised);
  }
  const int64_t tmaBefore = sim::async::tmaCopiesIssued();
  // 4 key blocks of 64 over 2 stages: each stage is refilled after the warps handed it back.
  int D = 64;
  float scale = 1.0f / std::sqrt(float(D));
  float scaleLog2 = scale * 1.4426950408889634f;
  std::vector<float> q, kk, v;
  std::vector<sim::Buffer> bufs = {bf16Random(size_t(S) * D, q), bf16Random(size_t(S) * D, kk, -2, 2),
                                   bf16Random(size_t(S) * D, v), bf16Poison(size_t(S) * D),
                                   f32Buffer(std::vector<float>(S, NAN))};
  std::string err = sim::run(*k.module, kernel,
                             {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::buf(3), sim::Arg::buf(4),
                              sim::Arg::i32(S), sim::Arg::i32(D), sim::Arg::f32(scaleLog2)},
                             bufs, persistent ? 2 : (S + rows - 1) / rows);
  REQUIRE(err == "");
  CHECK(sim::async::tmaCopiesIssued() > tmaBefore);  // K and V came by TMA
  auto lse = f32Values(bufs[4]);
  for (int i = 0; i < S; ++i) {
    std::vector<double> s(S);
    double m = -INFINITY, l = 0;
    for (int j = 0; j < S; ++j) {
      double dot = 0;
      for (int d = 0; d < D; ++d) dot += double(q[size_t(i) * D + d]) * kk[size_t(j) * D + d];
      s[j] = dot * scale;
      m = std::max(m, s[j]);
    }
    for (int j = 0; j < S; ++j) l += std::exp(s[j] - m);
    INFO("row " << i);
    REQUIRE(std::fabs(lse[i] - (m + std::log(l))) <= 1e-3);
    for (int d = 0; d < D; ++d) {
      double o = 0;
      for (int j = 0; j < S; ++j) o += std::exp(s[j] - m) / l * v[size_t(j) * D + d];
      INFO("col " << d);
      // P is rounded to bf16 before P V, O is stored in bf16.
      REQUIRE(std::fabs(bf16At(bufs[3], size_t(i) * D + d) - o) <= 2e-2);
    }
  }
}

// Inputs of the backward-like kernels (q, k, v, dO, lse, delta; dq zeroed, dk and dv poisoned)
// and their arguments (buffers, seqlen S, row stride D, scale in the log2 domain).
struct BwdInputs {
  int S, D;
  float scaleLog2;
  std::vector<float> q, kk, v, dO, lse, delta;
  std::vector<sim::Buffer> bufs;
  std::vector<sim::Arg> args;
  BwdInputs(int s, int d) : S(s), D(d), scaleLog2(1.0f / std::sqrt(float(d)) * 1.4426950408889634f), lse(s), delta(s) {
    for (auto& x : lse) x = uniform(1, 3);
    for (auto& x : delta) x = uniform(-0.5, 0.5);
    const size_t n = size_t(S) * D;
    bufs = {bf16Random(n, q), bf16Random(n, kk), bf16Random(n, v), bf16Random(n, dO), f32Buffer(lse), f32Buffer(delta),
            f32Buffer(std::vector<float>(n, 0)), f32Buffer(std::vector<float>(n, NAN)), f32Buffer(std::vector<float>(n, NAN))};
    for (int i = 0; i < 9; ++i) args.push_back(sim::Arg::buf(i));
    args.push_back(sim::Arg::i32(S));
    args.push_back(sim::Arg::i32(D));
    args.push_back(sim::Arg::f32(scaleLog2));
  }
};

TEST_CASE("attention backward-like: transposed operands from mma layouts, causal scf.if, atomics", "[simt]") {
  Lowered k("attention_bwd.mlir");
  int S = 100, D = 64;
  BwdInputs in(S, D);
  const float scaleLog2 = in.scaleLog2;
  auto &q = in.q, &kk = in.kk, &v = in.v, &dO = in.dO, &lse = in.lse, &delta = in.delta;
  auto& bufs = in.bufs;
  auto& args = in.args;
  std::string err = sim::run(*k.module, "attn_bwd", args, bufs, (S + 63) / 64);
  REQUIRE(err == "");
  // dS as the kernel forms it: P = exp2(QK^T * scale - lse) for key n <= query m, in f32;
  // dS = P * (dO V^T - delta), rounded to bf16 before the dots.
  std::vector<double> ds(size_t(S) * S, 0);
  for (int m = 0; m < S; ++m)
    for (int n = 0; n <= m; ++n) {
      float s = 0, dp = 0;
      for (int d = 0; d < D; ++d) {
        s += q[size_t(m) * D + d] * kk[size_t(n) * D + d];
        dp += dO[size_t(m) * D + d] * v[size_t(n) * D + d];
      }
      float p = std::exp2(s * scaleLog2 - lse[m]);
      ds[size_t(m) * S + n] = sim::fromBf16(sim::toBf16(p * (dp - delta[m])));
    }
  auto dq = f32Values(bufs[6]), dk = f32Values(bufs[7]);
  for (int i = 0; i < S; ++i)
    for (int d = 0; d < D; ++d) {
      double wantK = 0, boundK = 0, wantQ = 0, boundQ = 0;
      for (int m = i; m < S; ++m) {
        wantK += ds[size_t(m) * S + i] * q[size_t(m) * D + d];
        boundK += std::fabs(ds[size_t(m) * S + i] * q[size_t(m) * D + d]);
      }
      for (int n = 0; n <= i; ++n) {
        wantQ += ds[size_t(i) * S + n] * kk[size_t(n) * D + d];
        boundQ += std::fabs(ds[size_t(i) * S + n] * kk[size_t(n) * D + d]);
      }
      INFO("row " << i << " col " << d);
      // One bf16 rounding of each dS term may differ from the reference's.
      REQUIRE(std::fabs(dk[size_t(i) * D + d] - wantK) <= 1e-2 * boundK + 1e-4);
      REQUIRE(std::fabs(dq[size_t(i) * D + d] - wantQ) <= 1e-2 * boundQ + 1e-4);
    }
}

TEST_CASE("dK/dV program, key-major and query-major: pipelined loads feeding two dots, warpgroups splitting N, "
          "one staging of K for two views, vector atomics; key-major with warp roles (rows riding in Q's stages)",
          "[simt]") {
  const std::string kernel =
      GENERATE(std::string("attn_bwd_key_major"), std::string("attn_bwd_key_major_ws"), std::string("attn_bwd_query_major"));
  INFO(kernel);
  Lowered k("attention_" + kernel.substr(std::strlen("attn_")) + ".mlir");
  // 200 rows: the second key block and the last query block are ragged.
  const int S = 200, D = 128;
  BwdInputs in(S, D);
  const float scaleLog2 = in.scaleLog2;
  auto &q = in.q, &kk = in.kk, &v = in.v, &dO = in.dO, &lse = in.lse, &delta = in.delta;
  auto& bufs = in.bufs;
  auto& args = in.args;
  std::string err = sim::run(*k.module, kernel, args, bufs, (S + 127) / 128);
  REQUIRE(err == "");
  // P = exp2(QK^T * scale - lse) and dS = P * (dO V^T - delta) for every (query m, key n), in
  // f32 as the kernel forms them, each rounded to bf16 before its dots.
  std::vector<double> p(size_t(S) * S), ds(size_t(S) * S);
  for (int m = 0; m < S; ++m)
    for (int n = 0; n < S; ++n) {
      float s = 0, dp = 0;
      for (int d = 0; d < D; ++d) {
        s += q[size_t(m) * D + d] * kk[size_t(n) * D + d];
        dp += dO[size_t(m) * D + d] * v[size_t(n) * D + d];
      }
      float pf = std::exp2(s * scaleLog2 - lse[m]);
      p[size_t(m) * S + n] = sim::fromBf16(sim::toBf16(pf));
      ds[size_t(m) * S + n] = sim::fromBf16(sim::toBf16(pf * (dp - delta[m])));
    }
  auto dq = f32Values(bufs[6]), dk = f32Values(bufs[7]), dv = f32Values(bufs[8]);
  for (int i = 0; i < S; ++i)
    for (int d = 0; d < D; ++d) {
      double wantK = 0, boundK = 0, wantV = 0, boundV = 0, wantQ = 0, boundQ = 0;
      for (int m = 0; m < S; ++m) {
        wantK += ds[size_t(m) * S + i] * q[size_t(m) * D + d];
        boundK += std::fabs(ds[size_t(m) * S + i] * q[size_t(m) * D + d]);
        wantV += p[size_t(m) * S + i] * dO[size_t(m) * D + d];
        boundV += std::fabs(p[size_t(m) * S + i] * dO[size_t(m) * D + d]);
      }
      for (int n = 0; n < S; ++n) {
        wantQ += ds[size_t(i) * S + n] * kk[size_t(n) * D + d];
        boundQ += std::fabs(ds[size_t(i) * S + n] * kk[size_t(n) * D + d]);
      }
      INFO("row " << i << " col " << d);
      // One bf16 rounding of each P or dS term may differ from the reference's.
      REQUIRE(std::fabs(dk[size_t(i) * D + d] - wantK) <= 1e-2 * boundK + 1e-4);
      REQUIRE(std::fabs(dv[size_t(i) * D + d] - wantV) <= 1e-2 * boundV + 1e-4);
      REQUIRE(std::fabs(dq[size_t(i) * D + d] - wantQ) <= 1e-2 * boundQ + 1e-4);
    }
}

TEST_CASE("DSL examples: vector add and bf16 row softmax", "[simt]") {
  {
    Lowered k("dsl_vector_add.mlir");
    int n = 2100;
    std::vector<float> x(n), y(n);
    for (int i = 0; i < n; ++i) x[i] = uniform(-4, 4), y[i] = uniform(-4, 4);
    std::vector<sim::Buffer> bufs = {f32Buffer(x), f32Buffer(y), f32Buffer(std::vector<float>(n, NAN))};
    REQUIRE(sim::run(*k.module, "vector_add", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::i32(n)}, bufs, 3) == "");
    auto out = f32Values(bufs[2]);
    for (int i = 0; i < n; ++i) REQUIRE(out[i] == x[i] + y[i]);
  }
  {
    Lowered k("dsl_softmax_bf16.mlir");
    for (int stride : {1003, 1024}) {  // odd rows: element path; 1024: 16-byte vectors
    int rows = 5, cols = 1000;
    size_t n = size_t(rows - 1) * stride + cols;
    std::vector<float> x;
    std::vector<sim::Buffer> bufs = {bf16Random(n, x, -3, 3), bf16Poison(n)};
    REQUIRE(sim::run(*k.module, "softmax",
                     {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::i32(rows), sim::Arg::i32(cols), sim::Arg::i32(stride)},
                     bufs, rows) == "");
    for (int r = 0; r < rows; ++r) {
      std::vector<double> ref = softmaxRow(x, r, cols, stride);
      for (int c = 0; c < cols; ++c) {
        double want = ref[size_t(c)];
        INFO("row " << r << " col " << c);
        REQUIRE(std::fabs(bf16At(bufs[1], size_t(r) * stride + c) - want) <= 1e-5 + 8e-3 * want);
      }
    }
    }
  }
}

TEST_CASE("DSL f32 softmax, 4 rows per block: row offsets row * stride are not known to be aligned", "[simt]") {
  Lowered k("dsl_softmax_f32.mlir");
  for (int stride : {211, 256})  // 211: element path (a 16-byte vector would be misaligned)
    checkF32Softmax(k, "softmax", 4, 6, 203, stride);
}

namespace {
sim::Buffer f16Random(size_t n, std::vector<float>& rounded) {
  sim::Buffer b;
  b.bytes.resize(n * 2);
  rounded.resize(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = sim::toF16(uniform(-1, 1));
    rounded[i] = sim::fromF16(h);
    std::memcpy(&b.bytes[i * 2], &h, 2);
  }
  return b;
}
}  // namespace

TEST_CASE("dots smaller than the warp grid (copies in warps, one owner adds) and f16 with 8 warps", "[simt]") {
  Lowered k("small_dot.mlir");
  {
    std::vector<float> a, b;
    std::vector<sim::Buffer> bufs = {f16Random(16 * 16, a), f16Random(16 * 8, b), f32Buffer(std::vector<float>(16 * 8, 0)),
                                     f32Buffer(std::vector<float>(16, NAN))};
    REQUIRE(sim::run(*k.module, "small_dot", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::buf(3)}, bufs, 1) == "");
    auto c = f32Values(bufs[2]), r = f32Values(bufs[3]);
    for (int i = 0; i < 16; ++i) {
      double rowSum = 0;
      for (int j = 0; j < 8; ++j) {
        double want = 0;
        for (int kk = 0; kk < 16; ++kk) want += double(a[i * 16 + kk]) * b[kk * 8 + j];
        rowSum += want;
        REQUIRE(std::fabs(c[i * 8 + j] - want) <= 1e-5);
      }
      REQUIRE(std::fabs(r[i] - rowSum) <= 1e-4);
    }
  }
  {
    std::vector<float> a, b;
    std::vector<sim::Buffer> bufs = {f16Random(128 * 32, a), f16Random(32 * 32, b), f32Buffer(std::vector<float>(128 * 32, NAN))};
    REQUIRE(sim::run(*k.module, "f16_dot_8warps", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2)}, bufs, 1) == "");
    auto c = f32Values(bufs[2]);
    for (int i = 0; i < 128; ++i) {
      std::vector<double> row(32);
      double m = -INFINITY;
      for (int j = 0; j < 32; ++j) {
        for (int kk = 0; kk < 32; ++kk) row[j] += double(a[i * 32 + kk]) * b[kk * 32 + j];
        m = std::max(m, row[j]);
      }
      for (int j = 0; j < 32; ++j) REQUIRE(std::fabs(c[i * 32 + j] - (row[j] - m)) <= 1e-4);
    }
  }
}

TEST_CASE("rows riding in a producer-fed stage: read by every lane after the dot, handed back by each", "[simt]") {
  // @row_minus_roles_wanted: two loops per head over 64-row blocks of A (the first one block,
  // the second the rest), each out += B A_blk - row_blk (broadcast down the columns). The row is
  // the stage's last reader, after the dot; the stage must not go back before the dot's wait.
  Lowered k("pipelined_row.mlir");
  const int n = 200, heads = 2, stride = 72;  // a ragged last block: rows 192..199 only
  std::vector<float> a, b, r(static_cast<size_t>(n));
  for (float& x : r) x = uniform(-1, 1);
  std::vector<sim::Buffer> bufs = {bf16Random(size_t(n) * stride, a), bf16Random(64 * 64, b), f32Buffer(r),
                                   f32Buffer(std::vector<float>(64 * 64, NAN))};
  const int64_t tmaBefore = sim::async::tmaCopiesIssued();
  REQUIRE(sim::run(*k.module, "row_minus_roles_wanted", {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2),
                   sim::Arg::buf(3), sim::Arg::i32(n), sim::Arg::i32(heads), sim::Arg::i32(stride)}, bufs, 1) == "");
  CHECK(sim::async::tmaCopiesIssued() > tmaBefore);
  auto out = f32Values(bufs[3]);
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) {
      double want = 0;
      for (int m0 = 0; m0 < n; m0 += 64) {
        for (int kk = 0; kk < 64 && m0 + kk < n; ++kk) want += double(b[size_t(i) * 64 + kk]) * a[size_t(m0 + kk) * stride + j];
        if (m0 + j < n) want -= r[size_t(m0 + j)];
      }
      want *= heads;
      INFO("out[" << i << "][" << j << "]");
      REQUIRE(std::fabs(out[size_t(i) * 64 + j] - want) <= 1e-3 * n);
    }
}

TEST_CASE("listed blocks: a pipelined loop whose offsets come from an index list", "[simt]") {
  // @listed and @listed_roles: C = sum over i < count of A[:, 64 list[i] ..] B[64 list[i] .., :]
  // (a block mask's listed key blocks). The list holds exactly `count` entries, so a copy
  // issued ahead that read entry `count` would be a global access out of bounds. Blocks come
  // out of order and twice, the last one ragged (K = 200: rows 192..199 only). A row stride of
  // 201 elements (not 16-byte aligned) makes @listed take its cp.async version.
  Lowered k("listed_blocks.mlir");
  const int M = 96, N = 80, K = 200;
  const std::vector<int32_t> list{3, 0, 2, 3, 1};
  struct Case {
    const char* kernel;
    int stride_a;
    bool tma;
  };
  for (Case cs : {Case{"listed", K, true}, Case{"listed", K + 1, false}, Case{"listed_roles", K, true}}) {
    for (int count : {int(list.size()), 1, 0}) {
      INFO(cs.kernel << " stride " << cs.stride_a << " count " << count);
      std::vector<float> a, b;
      sim::Buffer idx;
      idx.bytes.resize(size_t(count) * 4);
      std::memcpy(idx.bytes.data(), list.data(), idx.bytes.size());
      std::vector<sim::Buffer> bufs = {bf16Random(size_t(M) * cs.stride_a, a), bf16Random(size_t(K) * N, b),
                                       f32Buffer(std::vector<float>(size_t(M) * N, NAN)), idx};
      const int64_t tmaBefore = sim::async::tmaCopiesIssued();
      REQUIRE(sim::run(*k.module, cs.kernel,
                       {sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::buf(3), sim::Arg::i32(count),
                        sim::Arg::i32(M), sim::Arg::i32(N), sim::Arg::i32(K), sim::Arg::i32(cs.stride_a), sim::Arg::i32(N)},
                       bufs, 2, 2) == "");
      if (count > 0) CHECK((sim::async::tmaCopiesIssued() > tmaBefore) == cs.tma);
      auto c = f32Values(bufs[2]);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          double want = 0;
          for (int e = 0; e < count; ++e)
            for (int kk = 64 * list[size_t(e)]; kk < 64 * list[size_t(e)] + 64 && kk < K; ++kk)
              want += double(a[size_t(i) * cs.stride_a + kk]) * b[size_t(kk) * N + j];
          INFO("C[" << i << "][" << j << "]");
          REQUIRE(std::fabs(c[size_t(i) * N + j] - want) <= 1e-4 * K);
        }
    }
  }
}

TEST_CASE("argument assumptions: the TMA-only GEMM, and an empty tensor's copies zero-filled", "[simt]") {
  Lowered k("assumed_alignment.mlir");
  const int M = 96, N = 80, K = 136;  // strides K and N: multiples of 8 elements, as assumed
  for (int Ma : {M, 0}) {
    INFO("A's rows " << Ma);
    std::vector<float> a, b;
    std::vector<sim::Buffer> bufs = {bf16Random(size_t(M) * K, a), bf16Random(size_t(K) * N, b),
                                     f32Buffer(std::vector<float>(size_t(M) * N, NAN))};
    const int64_t tmaBefore = sim::async::tmaCopiesIssued();
    std::vector<sim::Arg> args{sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::i32(M), sim::Arg::i32(N),
                               sim::Arg::i32(K), sim::Arg::i32(K), sim::Arg::i32(N), sim::Arg::i32(N)};
    const char* kernel = "assumed";
    if (Ma != M) {
      kernel = "empty_rows";
      args.push_back(sim::Arg::i32(Ma));
    }
    REQUIRE(sim::run(*k.module, kernel, args, bufs, 2, 2) == "");
    CHECK(sim::async::tmaCopiesIssued() > tmaBefore);
    auto c = f32Values(bufs[2]);
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double want = 0;
        if (i < Ma)
          for (int kk = 0; kk < K; ++kk) want += double(a[size_t(i) * K + kk]) * b[size_t(kk) * N + j];
        INFO("C[" << i << "][" << j << "]");
        REQUIRE(std::fabs(c[size_t(i) * N + j] - want) <= 1e-4 * K);
      }
  }
}

TEST_CASE("atomic_add_block: bulk reduce-add when rows are 16-byte aligned, per-element atomics otherwise", "[simt]") {
  Lowered k("bulk_reduce_add.mlir");
  // 100 rows: the second program's tile and the second A block are ragged. Row stride 64 floats
  // takes the bulk path; 66 (8-byte aligned rows) the fallback.
  const int n = 100, iters = 2, programs = 2;
  for (int stride : {64, 66}) {
    INFO("row stride " << stride);
    std::vector<float> a, b;
    std::vector<sim::Buffer> bufs{bf16Random(size_t(n) * 64, a), bf16Random(64 * 64, b)};
    std::vector<float> out0(size_t(n) * stride);
    for (float& x : out0) x = uniform(-1, 1);  // adds go on top; padding columns must stay
    bufs.push_back(f32Buffer(out0));
    std::vector<sim::Arg> args{sim::Arg::buf(0), sim::Arg::buf(1), sim::Arg::buf(2), sim::Arg::i32(n),
                               sim::Arg::i32(stride), sim::Arg::i32(iters)};
    const int64_t bulkBefore = sim::async::bulkReducesIssued();
    REQUIRE(sim::run(*k.module, "bulk_reduce_add", args, bufs, programs) == "");
    if (stride % 4 == 0) CHECK(sim::async::bulkReducesIssued() > bulkBefore);
    else CHECK(sim::async::bulkReducesIssued() == bulkBefore);
    auto out = f32Values(bufs[2]);
    for (int row = 0; row < n; ++row)
      for (int c = 0; c < stride; ++c) {
        INFO("row " << row << " col " << c);
        double want = out0[size_t(row) * stride + c];
        if (c < 64)  // each program adds A[i*64 + row%64] . B for every A block i inside n
          for (int i = 0; i < iters; ++i) {
            int ar = i * 64 + row % 64;
            if (ar >= n) continue;
            for (int kk = 0; kk < 64; ++kk) want += double(a[size_t(ar) * 64 + kk]) * b[size_t(kk) * 64 + c];
          }
        REQUIRE(std::fabs(out[size_t(row) * stride + c] - want) <= 1e-3 * (1 + std::fabs(want)));
      }
  }
}
