// The attention kernels' names and specialisation table, without MLIR: the host API (also the
// GPU-side one) picks kernels from here; specializations.cc registers exactly these.
#pragma once

#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/params.h"

namespace tile::attention {

// Kernel families. A variant (ALiBi) replaces the forward/dkdv/dq kernels and adds arguments
// after the shared ones; preprocess and dq_convert are shared by all variants.
enum class Variant { plain, alibi };

inline std::string fwd_kernel_name(Variant v) { return v == Variant::alibi ? "attn_fwd_alibi" : "attn_fwd"; }
inline std::string dkdv_kernel_name(Variant v) { return v == Variant::alibi ? "attn_bwd_dkdv_alibi" : "attn_bwd_dkdv"; }
inline std::string dq_kernel_name(Variant v) { return v == Variant::alibi ? "attn_bwd_dq_alibi" : "attn_bwd_dq"; }
inline const char* const kPreprocessKernel = "attn_bwd_preprocess";
inline const char* const kDqConvertKernel = "attn_dq_convert";

// Block shapes per head_dim, one for the forward and one for the backward kernels (the backward
// holds Q, dO, K, V blocks and two accumulators at once: smaller query blocks keep it within
// shared memory and registers). Blocks shrink as head_dim grows.
struct Blocks {
  int block_m, block_n, num_warps;
};
struct BlockShape {
  int head_dim;
  Blocks fwd, bwd;
};
inline const std::vector<BlockShape>& block_shapes() {
  static const std::vector<BlockShape> shapes = {
      // Chosen from ptxas reports (registers/spills) of the current lowering and H100 timings
      // (bench/RESULTS.md): 8 warps = two wgmma warpgroups of 64 query rows each. With wgmma
      // the 128x128 forward (a few hundred bytes of spills) beats 128x64: half the loop
      // iterations, each with one CTA-wide barrier, and longer wgmma chains.
      // The backward's dK/dV program is key-major (bwd.cc): 128 keys over 8 warps make its
      // dots wgmma-shaped.
      {64, {128, 128, 8}, {64, 128, 8}},
      {96, {128, 128, 8}, {64, 128, 8}},
      {128, {128, 128, 8}, {64, 128, 8}},
      {256, {64, 32, 8}, {32, 32, 8}},
  };
  return shapes;
}
inline const std::vector<DType>& kernel_dtypes() {
  static const std::vector<DType> dtypes = {DType::bf16, DType::f16};
  return dtypes;
}
// Null when head_dim has no specialisation.
inline const BlockShape* block_shape_for(int head_dim) {
  for (const BlockShape& s : block_shapes())
    if (s.head_dim == head_dim) return &s;
  return nullptr;
}

// Parameters of the attention kernels for one specialisation (AttnConfig::params() in DSL form):
// the forward kernel's, and the backward kernels' (preprocess, dK/dV, dQ, dQ convert).
inline Params attention_params(int head_dim, const Blocks& b, DType dtype, bool softcap) {
  return Params{{"HEAD_DIM", head_dim}, {"BLOCK_M", b.block_m}, {"BLOCK_N", b.block_n},
                {"DTYPE", dtype},       {"SOFTCAP", softcap},  {"NUM_WARPS", b.num_warps}};
}
inline Params fwd_params(const BlockShape& s, DType dtype, bool softcap) {
  return attention_params(s.head_dim, s.fwd, dtype, softcap);
}
inline Params bwd_params(const BlockShape& s, DType dtype, bool softcap) {
  return attention_params(s.head_dim, s.bwd, dtype, softcap);
}
// The dK/dV kernel adds the dQ strategy.
inline Params dkdv_params(Params p, bool atomic_dq) {
  p.set("ATOMIC_DQ", atomic_dq);
  return p;
}

}  // namespace tile::attention
