// How attention work is counted, the same way flash-attn's benchmark, Triton's tutorial and
// ThunderKittens count it, so TFLOPS compare across engines:
//   forward  = 2·B·S²·H·(D + DV) = 4·B·S²·H·D when DV = D (two matmuls per head: QKᵀ of
//              2·S²·D and PV of 2·S²·DV)
//   ×0.5 when causal        (half of the score matrix is masked out)
//   ×3.5 for forward+backward (backward counted as 2.5× the forward: five matmuls to the
//                              forward's two)
// H is the number of query heads; GQA (fewer K/V heads) does not change the count.
#pragma once

#include <cstdint>

namespace tile::bench {

inline constexpr const char* kFlopsFormula =
    "TFLOPS = 2*B*S^2*H*(D+DV) (= 4*B*S^2*H*D), x0.5 when causal, x3.5 for forward+backward, / time";

inline double attention_flops(int64_t batch, int64_t seqlen, int64_t nheads, int64_t head_dim, int64_t head_dim_v,
                              bool causal, bool fwd_only) {
  double f = 2.0 * double(batch) * double(seqlen) * double(seqlen) * double(nheads) * double(head_dim + head_dim_v);
  if (causal) f *= 0.5;
  if (!fwd_only) f *= 3.5;
  return f;
}

// TFLOP/s for `flops` done in `ms` milliseconds.
inline double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }

}  // namespace tile::bench
