// The attention kernels' names and specialisation table, without MLIR: the host API (also the
// GPU-side one) picks kernels from here; specializations.cc registers exactly these.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dsl/core/dtype.h"
#include "dsl/params.h"

namespace tile::attention {

// Kernel families. A variant (attention/variants, by its kernel suffix: "" for plain attention,
// "_alibi", "_alibi_and_document_mask") replaces the forward/dkdv/dq kernels and adds arguments
// after the shared ones; preprocess and dq_convert are shared by all variants.
inline std::string fwd_kernel_name(const std::string& suffix = "") { return "attn_fwd" + suffix; }
inline std::string dkdv_kernel_name(const std::string& suffix = "") { return "attn_bwd_dkdv" + suffix; }
inline std::string dq_kernel_name(const std::string& suffix = "") { return "attn_bwd_dq" + suffix; }
// Block-sparse kernels of a variant: "attn_fwd" + block_sparse_suffix(suffix), ...; the block
// mask of a variant is made by kBlockMaskKernel + suffix, then kBlockMaskColumnsKernel.
inline std::string block_sparse_suffix(const std::string& suffix) { return "_blocks" + suffix; }
inline const char* const kBlockMaskKernel = "attn_block_mask";
inline const char* const kBlockMaskColumnsKernel = "attn_block_mask_columns";
// Elements of one line of a block mask's lists (block_mask_args.h's BlockLists) for a line of
// `length` blocks: the two counts, then room for every block in each list. One formula for the
// host's allocation (int64_t) and the kernels' addressing (the DSL's Int).
template <class N>
N block_list_stride(const N& length) { return 2 + 2 * length; }
// Whether a forward kernel walks its tiles persistently (grid: the backend's persistent
// programs × 1 × 1) or takes one tile per program (grid: query blocks × batch·heads × 1). The
// block-sparse forwards keep one tile per program: the persistent order pairs tiles by causal
// work, which says nothing of a block mask's, and persistent they spill more (ptxas, bf16,
// d=128, both loops walking lists: blocks_document_mask 544 -> 692 B, the other masks 0 B
// either way; not timed). Before the lists, their masked loops loaded their own K and V
// (4112 -> 6320 B).
inline bool forward_is_persistent(bool block_sparse) { return !block_sparse; }
inline const char* const kPreprocessKernel = "attn_bwd_preprocess";
inline const char* const kDqConvertKernel = "attn_dq_convert";

// Head dims of one specialisation: the tile widths of q/k (HEAD_DIM) and of v/out (HEAD_DIM_V),
// powers of two as the lowering's tiles are. Exact specialisations run exactly those dims with
// compile-time bounds; ragged ones (RAGGED) take the actual dims as run-time arguments up to
// the widths: columns past them are loaded as zeros and never stored. So every head_dim 1..256
// (and head_dim_v != head_dim) runs on a few compiled widths instead of one kernel per dim.
struct HeadDims {
  int dim, dim_v;
  bool ragged;
  bool operator==(const HeadDims& o) const { return dim == o.dim && dim_v == o.dim_v && ragged == o.ragged; }
};

inline constexpr int kMaxHeadDim = 256;
// The tile width a head dim runs on (64, 128 or 256): narrower tiles than 64 would not shorten
// the dots' k-loop enough to pay for their own kernels.
inline int head_dim_bucket(int d) { return d <= 64 ? 64 : d <= 128 ? 128 : 256; }

// Block shapes, one for the forward and one for the backward kernels (the backward holds Q, dO,
// K, V blocks and two accumulators at once: smaller query blocks keep it within shared memory
// and registers). Blocks shrink as the widest tile grows.
struct Blocks {
  int block_m, block_n, num_warps;
};
struct BlockShape {
  HeadDims dims;
  Blocks fwd, bwd;
  // Compiled without softcap: the head_dim_v pairs, whose users (latent attention) need none, so
  // the table stays within its build-time budget. Variants declare their own (variant_spec.h).
  bool plain_only = false;
  // The backward's blocks with softcap, where they differ from `bwd` (its tanh and derivative
  // hold more registers a score): the backward's kernels of one call all take bwd_for(softcap).
  std::optional<Blocks> bwd_softcap = std::nullopt;
  const Blocks& bwd_for(bool softcap) const { return softcap && bwd_softcap ? *bwd_softcap : bwd; }
};

// Chosen from ptxas reports (registers/spills) of the current lowering and H100 timings
// (bench/RESULTS.md): 8 warps = two wgmma warpgroups of 64 query rows each. With wgmma the
// 128x128 forward (a few hundred bytes of spills) beats 128x64: half the loop iterations, each
// with one CTA-wide barrier, and longer wgmma chains. The backward's dK/dV program (bwd.cc)
// holds 128 keys over 8 warps, 64 per warpgroup, and runs key-major: every dot of it runs on
// wgmma (dQ's 64-query dot splits its columns between the two warpgroups). Above 128 the forward keeps 128
// query rows (64 per warpgroup, so its dots run on wgmma) with 32 keys per block: at d=256 the
// output accumulator alone is 128 registers a thread (128x64 blocks spill ~1.9 KB).
//
// At exact head dims up to 64 the backward takes 128 queries a step as well (FA3's d=64 shape):
// forward+backward 13-16 % faster on the H100 than 64 (bench/RESULTS.md, 2026-12-07), with
// 112 B of spills in the atomic dK/dV program (ptxas). With softcap (2480 B at 128: its tanh
// derivative a score) and at ragged dims (864 B) the backward keeps 64. 64 queries a step with
// warp roles spills nothing, yet its backward measured 1-10 % slower (atomic) and 19-24 %
// slower (deterministic) on the H100 (bench/RESULTS.md, 2026-12-07, midnight).
inline BlockShape block_shape_of(HeadDims dims, bool plain_only = false) {
  const int widest = std::max(dims.dim, dims.dim_v);
  if (widest <= 64 && !dims.ragged) return {dims, {128, 128, 8}, {128, 128, 8}, plain_only, Blocks{64, 128, 8}};
  if (widest <= 128) return {dims, {128, 128, 8}, {64, 128, 8}, plain_only};
  return {dims, {128, 32, 8}, {32, 32, 8}, plain_only};
}

// The specialisations compiled ahead of time (attention/gpu/kernel_instances.bzl mirrors it):
// exact 64/128/256, ragged buckets for every other head_dim <= 256 (every feature), and the
// head_dim_v pairs of latent attention (192/128) and of narrow or wide values (128/64, 64/128),
// plain attention without softcap.
inline const std::vector<BlockShape>& block_shapes() {
  static const std::vector<BlockShape> shapes = {
      block_shape_of({64, 64, false}),   block_shape_of({128, 128, false}), block_shape_of({256, 256, false}),
      block_shape_of({64, 64, true}),    block_shape_of({128, 128, true}),  block_shape_of({256, 256, true}),
      block_shape_of({256, 128, true}, true), block_shape_of({128, 64, true}, true), block_shape_of({64, 128, true}, true),
  };
  return shapes;
}

// The specialisation for (head_dim, head_dim_v): an exact one when compiled, else the ragged one of
// their buckets. Null when that is not compiled, unless `any` (a backend that builds kernels on
// demand, such as the interpreter): then the ragged shape of the buckets.
inline std::optional<BlockShape> block_shape_for(int head_dim, int head_dim_v, bool any = false) {
  const HeadDims exact{head_dim, head_dim_v, false};
  const HeadDims ragged{head_dim_bucket(head_dim), head_dim_bucket(head_dim_v), true};
  for (const HeadDims& want : {exact, ragged})
    for (const BlockShape& s : block_shapes())
      if (s.dims == want) return s;
  if (any) return block_shape_of(ragged);
  return std::nullopt;
}

inline const std::vector<DType>& kernel_dtypes() {
  static const std::vector<DType> dtypes = {DType::bf16, DType::f16};
  return dtypes;
}
// Parameters of the attention kernels for one specialisation (AttnConfig::params() in DSL form):
// the forward kernel's, and the backward kernels' (preprocess, dK/dV, dQ, dQ convert).
inline Params attention_params(const HeadDims& d, const Blocks& b, DType dtype, bool softcap) {
  return Params{{"HEAD_DIM", d.dim}, {"HEAD_DIM_V", d.dim_v}, {"RAGGED", d.ragged},  {"BLOCK_M", b.block_m},
                {"BLOCK_N", b.block_n}, {"DTYPE", dtype},     {"SOFTCAP", softcap}, {"NUM_WARPS", b.num_warps}};
}
inline Params fwd_params(const BlockShape& s, DType dtype, bool softcap) {
  return attention_params(s.dims, s.fwd, dtype, softcap);
}
inline Params bwd_params(const BlockShape& s, DType dtype, bool softcap) {
  return attention_params(s.dims, s.bwd_for(softcap), dtype, softcap);
}
// The block-mask programs' parameters at one block shape.
inline Params block_mask_params(const Blocks& b) {
  return Params{{"BLOCK_M", b.block_m}, {"BLOCK_N", b.block_n}, {"NUM_WARPS", b.num_warps}};
}
// The dK/dV kernel adds the dQ strategy.
inline Params dkdv_params(Params p, bool atomic_dq) {
  p.set("ATOMIC_DQ", atomic_dq);
  return p;
}

}  // namespace tile::attention
