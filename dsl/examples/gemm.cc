// Tiled GEMM in the style of Triton's matmul tutorial: grouped program order for L2 reuse, block
// pointers advanced along K, f32 accumulator carried through a pipelined loop.
#include "dsl/examples/examples.h"

namespace tile::examples {

void gemm(KernelBuilder& k, const Params& p) {
  const int BM = int(p.get_int("BLOCK_M")), BN = int(p.get_int("BLOCK_N")), BK = int(p.get_int("BLOCK_K"));
  const int GROUP_M = int(p.get_int("GROUP_M"));
  const DType in_t = p.get_dtype("DTYPE"), out_t = p.get_dtype("OUT_DTYPE");
  Ptr a = k.arg_ptr("a", in_t), b = k.arg_ptr("b", in_t), c = k.arg_ptr("c", out_t);
  Int M = k.arg_i32("M"), N = k.arg_i32("N"), K = k.arg_i32("K");
  Int lda = k.arg_i32("stride_am"), ldb = k.arg_i32("stride_bk"), ldc = k.arg_i32("stride_cm");
  k.set_num_warps(int(p.get_int("NUM_WARPS")));
  if (p.get_int("PRODUCER")) {
    // A producer warpgroup feeds the loop by TMA while the NUM_WARPS warps compute: one program
    // per multiprocessor with a large tile.
    k.set_warp_specialized(true);
  } else {
    // Two programs per multiprocessor: while one waits for its next stage, the other's wgmma runs.
    k.set_min_blocks_per_sm(2);
  }

  // Consecutive programs walk down GROUP_M row blocks before moving right, sharing B in L2.
  Int pid = program_id(0);
  Int in_group = GROUP_M * cdiv(N, BN);
  Int first_m = pid / in_group * GROUP_M;
  Int group_rows = min(cdiv(M, BM) - first_m, GROUP_M);
  Int pid_m = first_m + pid % in_group % group_rows;
  Int pid_n = pid % in_group / group_rows;

  // Zero padding past M, N and K keeps ragged edges exact: padded products add 0.
  BlockPtr a_blk = make_block_ptr(a, {M, K}, {lda, 1}, {pid_m * BM, 0}, {BM, BK});
  BlockPtr b_blk = make_block_ptr(b, {K, N}, {ldb, 1}, {0, pid_n * BN}, {BK, BN});
  Tile acc = std::get<0>(for_range(0, cdiv(K, BK), 1, carry(zeros<f32>({BM, BN}), a_blk, b_blk),
      [&](Int, Tile acc, BlockPtr a_blk, BlockPtr b_blk) {
        Tile a_tile = load(a_blk), b_tile = load(b_blk);
        acc = dot(a_tile, b_tile, acc);
        return carry(acc, a_blk.advance({0, BK}), b_blk.advance({BK, 0}));
      }, int(p.get_int("STAGES"))));

  store(make_block_ptr(c, {M, N}, {ldc, 1}, {pid_m * BM, pid_n * BN}, {BM, BN}), acc.to(out_t));
}

TILE_REGISTER_KERNEL(gemm, "gemm", {{"BLOCK_M", 128}, {"BLOCK_N", 128}, {"BLOCK_K", 64}, {"GROUP_M", 8},
                                    {"NUM_WARPS", 8}, {"DTYPE", DType::bf16}, {"OUT_DTYPE", DType::f32},
                                    {"PRODUCER", 0}, {"STAGES", 3}});
TILE_REGISTER_KERNEL(gemm, "gemm", {{"BLOCK_M", 64}, {"BLOCK_N", 64}, {"BLOCK_K", 32}, {"GROUP_M", 4},
                                    {"NUM_WARPS", 4}, {"DTYPE", DType::f16}, {"OUT_DTYPE", DType::f16},
                                    {"PRODUCER", 0}, {"STAGES", 3}});

}  // namespace tile::examples
