#include "lowering/layout/default_layouts.h"

#include <algorithm>

namespace tile::lowering {

tile::gpu::BlockedAttr defaultBlocked(mlir::MLIRContext* ctx, llvm::ArrayRef<int64_t> shape,
                                      unsigned elemBits, unsigned numWarps) {
  int rank = int(shape.size());
  llvm::SmallVector<unsigned, 4> spt(rank, 1), tpw(rank, 1), wpc(rank, 1), order;
  for (int d = rank - 1; d >= 0; --d) order.push_back(unsigned(d));
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  int64_t perThread = std::max<int64_t>(1, total / (32 * int64_t(numWarps)));
  int64_t vec = 128 / std::max(8u, elemBits);
  spt[rank - 1] = unsigned(std::min({vec, shape[rank - 1], perThread}));
  unsigned lanes = 32;
  for (unsigned d : order) {
    int64_t t = std::min<int64_t>(lanes, std::max<int64_t>(1, shape[d] / spt[d]));
    tpw[d] = unsigned(t);
    lanes /= unsigned(t);
  }
  tpw[0] *= lanes;  // a tile smaller than a warp: the leftover lanes hold copies
  unsigned warps = numWarps;
  for (int d = 0; d < rank; ++d) {
    int64_t t = std::min<int64_t>(warps, std::max<int64_t>(1, shape[d] / (int64_t(spt[d]) * tpw[d])));
    wpc[d] = unsigned(t);
    warps /= unsigned(t);
  }
  wpc[0] *= warps;
  return tile::gpu::BlockedAttr::get(ctx, spt, tpw, wpc, order);
}

tile::gpu::MmaAttr defaultMma(mlir::MLIRContext* ctx, llvm::ArrayRef<int64_t> shape, unsigned numWarps,
                              bool rowsInWarp, bool wgmma) {
  unsigned wm = unsigned(std::min<int64_t>(numWarps, std::max<int64_t>(1, shape[0] / 16)));
  // wgmma: warpgroups beyond M's 64-row blocks split N into contiguous column blocks.
  if (wgmma) return tile::gpu::MmaAttr::get(ctx, {wm, numWarps / wm}, numWarps / wm > 1);
  if (!rowsInWarp) {
    int64_t best = -1;
    for (unsigned m = 1; m <= numWarps; m *= 2) {
      unsigned n = numWarps / m;
      if (shape[0] < 16 * int64_t(m) || shape[1] < 8 * int64_t(n)) continue;
      int64_t traffic = shape[0] / m + shape[1] / n;
      if (best < 0 || traffic <= best) best = traffic, wm = m;
    }
  }
  return tile::gpu::MmaAttr::get(ctx, {wm, numWarps / wm}, false);
}

bool wgmmaShape(int64_t M, int64_t N, int64_t K, unsigned operandBits, bool f32Accumulator, unsigned numWarps) {
  if (operandBits != 16 || !f32Accumulator || numWarps % 4 || K % 16) return false;
  // Warps along M (16 rows each) as far as M goes, in whole warpgroups; the rest split N.
  int64_t wm = std::min<int64_t>(numWarps, M / 16), wn = numWarps / std::max<int64_t>(wm, 1);
  // A column block starts on a 128-byte chunk of an MN-major B tile: 64 16-bit columns.
  return wm >= 4 && wm % 4 == 0 && M % (16 * wm) == 0 && N % (8 * wn) == 0 && (wn == 1 || (N / wn) % 64 == 0);
}

}  // namespace tile::lowering
