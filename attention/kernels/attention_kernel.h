// Shared pieces of the FlashAttention kernels written in the tile DSL (fwd.cc, bwd_*.cc):
// compile-time configuration, the argument list every kernel takes, sequence bounds (batched or
// varlen), the visibility mask (causal / sliding window, bottom-right aligned), the score
// transform (scale, softcap, log2 domain) and the hook through which variants (alibi.cc)
// modify scores.
//
// Conventions. Tensors use flash-attn's layouts: q/k/v/o/do/dq/dk/dv are (batch, seqlen, heads,
// head_dim) with arbitrary batch/row/head strides and unit stride along head_dim; with varlen the
// batch stride is 0 and sequence b starts at row cu_seqlens[b]. LSE and delta are f32 (heads,
// rows) per batch: element (b, h, i) lives at b*lse_batch + h*lse_head + (row0 + i), where row0
// is the sequence's first packed row for varlen and 0 otherwise. Scores are kept in the log2
// domain (scale*log2(e) folded once) so the softmax uses exp2.
#pragma once

#include <memory>
#include <string>

#include "dsl/tile.h"

namespace tile::attention {

inline constexpr double kLog2e = 1.4426950408889634;
inline constexpr double kLn2 = 0.6931471805599453;

// Compile-time parameters shared by all attention kernels.
struct AttnConfig {
  int head_dim = 128;    // HEAD_DIM: width of q/k head_dim tiles (a power of two)
  int head_dim_v = 128;  // HEAD_DIM_V: width of v/out head_dim tiles (a power of two)
  bool ragged = false;   // RAGGED: the actual dims are the run-time `head_dim`/`head_dim_v`
                         // arguments (<= the widths); else exactly the widths
  int block_m = 64;      // BLOCK_M: query rows per program
  int block_n = 64;      // BLOCK_N: keys per inner step
  DType dtype = DType::bf16;  // DTYPE of q, k, v, o and the gradients
  bool softcap = false;  // SOFTCAP: scores = softcap * tanh(raw * scale / softcap)
  int num_warps = 4;     // NUM_WARPS

  static AttnConfig from(const Params& p);
  // The parameter set for these values (for registration and kernel lookup).
  Params params() const;
};

// A strided (batch, seqlen, heads, head_dim) tensor argument.
struct HeadTensor {
  Ptr ptr;
  Int batch_stride, row_stride, head_stride;
  // `aligned_rows`: the kernel assumes (ArgAssumption, checked at launch) a 16-byte aligned base,
  // strides in whole 16-byte units and a positive row stride, so that its block accesses need
  // no run-time alignment test and no fallback (the exact head-dim specialisations; the host
  // runs other layouts on the ragged ones: attention/host/problem.h, rows_aligned).
  static HeadTensor declare(KernelBuilder& k, const std::string& name, DType dtype, bool aligned_rows = false);
  // The (seqlen, head_dim) matrix of head `h` of sequence `b` starting at packed row `row0`.
  Ptr head(const Int& b, const Int& row0, const Int& h) const;
};

// Runtime scalars shared by all attention kernels, in launch order after the tensors.
struct AttnScalars {
  Int head_dim, head_dim_v;        // actual dims (read only with RAGGED)
  Ptr cu_seqlens_q, cu_seqlens_k;  // i32 prefix sums (read only when is_varlen != 0)
  Int is_varlen;
  Int seqlen_q, seqlen_k;          // batched: the lengths; varlen: unused (per-sequence)
  Int nheads, heads_per_kv;        // q heads, and q heads per k/v head (GQA/MQA)
  Float softmax_scale;             // the user's scale (the backward's chain rule needs it)
  Float qk_scale;                  // scale*log2e, or scale/softcap with SOFTCAP
  Float cap_scale;                 // softcap*log2e with SOFTCAP (else unused)
  Int window_left, window_right;   // visible keys: i+off-left <= j <= i+off+right; -1 unbounded
  Int lse_batch, lse_head;         // strides of the f32 (b, h, row) LSE / delta arrays
  static AttnScalars declare(KernelBuilder& k);
};

// Where one sequence of the batch lives.
struct SeqBounds {
  Int q_row0, k_row0;  // first packed row (0 when batched)
  Int len_q, len_k;
  Int diag;            // len_k - len_q: key j is on query i's diagonal when j == i + diag
};
SeqBounds sequence_bounds(const AttnScalars& s, const Int& b);

// The actual head dims of q/k (d) and v/out (dv): compile-time constants, or with RAGGED the
// run-time arguments. Loads bound columns by them (zero-filling the tile past them), stores
// never write past them.
struct HeadDimsIn {
  Int d, dv;
};
HeadDimsIn head_dims(const AttnConfig& c, const AttnScalars& s);

// What a variant's hooks see of one score tile: query indices `rows` [BM,1] and key indices
// `cols` [1,BN] (i32, 0-based within the sequence), the batch index, the q head, and the
// sequence bounds. The dK/dV program works key-major: there the tile is [BN, BM], `rows` a
// [1,BM] row and `cols` a [BN,1] column. Hooks must only combine rows and cols elementwise
// (broadcasting), so they serve both orders.
struct ScoreContext {
  Tile rows, cols;
  Int b, h;
  SeqBounds seq;
  // Packed row of each query / key (the index of per-token tensors; equal to rows / cols
  // unless varlen).
  Tile query_rows() const { return rows + seq.q_row0; }
  Tile key_rows() const { return cols + seq.k_row0; }
};

// A program's fixed side, for per-program set-up: a query-major program (forward, dQ) fixes
// its query rows [BM,1] and head h; the dK/dV program fixes its keys (a [BN,1] column when it
// runs key-major, else a [1,BN] row) and k/v head hk (it walks the q heads of hk's group).
struct QuerySide {
  Tile rows;
  Int b, h;
  SeqBounds seq;
};
struct KeySide {
  Tile cols;
  Int b, hk;
  SeqBounds seq;
};

// The kernel side of a variant (FlexAttention's score_mod and mask_mod): `apply` gets the
// scores in the log2 domain after scale and softcap and returns new ones (a natural-log bias b
// is added as b * kLog2e); `mask` returns which keys stay visible (i1, broadcastable to the
// score tile), combined with causal/window visibility. It may declare extra kernel arguments
// and load what depends only on the program's fixed side once, before the key/query loop.
// Additive modifications (biases) need no backward changes: the kernels differentiate through
// the softmax only, so a modification that is not additive must also override `grad`.
class ScoreMod {
 public:
  virtual ~ScoreMod() = default;
  virtual void declare_args(KernelBuilder&) {}
  // Backward kernels also declare the gradients of trainable arguments, which the dK/dV
  // program accumulates: accumulate_arg_grads gets d loss / d (the mod's output scores), in the
  // natural-log domain, and the mod's input scores (log2), once per visited (query, key) pair.
  virtual void declare_grad_args(KernelBuilder&) {}
  virtual bool has_arg_grads() const { return false; }
  virtual void accumulate_arg_grads(const Tile& /*dscores*/, const Tile& /*scores_in_log2*/, const ScoreContext&) {}
  virtual bool has_mask() const { return false; }
  virtual bool modifies_scores() const { return false; }
  virtual void setup_queries(const QuerySide&) {}
  virtual void setup_keys(const KeySide&) {}
  virtual Tile apply(const Tile& scores_log2, const ScoreContext&) { return scores_log2; }
  virtual Tile mask(const ScoreContext& c) { return c.rows >= 0; }
  // dL/d(input scores) given dL/d(output scores) and the input scores; identity for additive mods.
  virtual Tile grad(const Tile& dscores, const Tile& /*scores_in_log2*/, const ScoreContext&) { return dscores; }
};
using ScoreModFactory = std::unique_ptr<ScoreMod> (*)();

// Raw q·kᵀ scores -> log2-domain scores (scale, optional softcap). With SOFTCAP, `tanh_out`
// receives tanh(raw*scale/softcap), which the backward needs for the softcap's derivative.
Tile scale_scores(const Tile& raw, const AttnConfig& c, const AttnScalars& s, Tile* tanh_out = nullptr);

// Visibility of keys `cols` [1,BN] for queries `rows` [BM,1] (absolute indices within the
// sequence): inside the sequence and the causal/local window.
Tile visible(const Tile& rows, const Tile& cols, const SeqBounds& seq, const AttnScalars& s);

// visible() and, for a variant with a mask, its mask.
Tile visible_to(ScoreMod& mod, const ScoreContext& c, const AttnScalars& s);

// Range of key blocks [lo, hi) (multiples of BLOCK_N) that query rows [m0, m0+BM) can see, and
// the sub-range [full_lo, full_hi) whose blocks are entirely visible (no mask needed).
struct KeyRange {
  Int lo, full_lo, full_hi, hi;
};
KeyRange key_range(const Int& m0, const SeqBounds& seq, const AttnScalars& s, int block_m, int block_n);

// Range of query blocks [lo, hi) (multiples of BLOCK_M) that keys [n0, n0+BN) are visible to;
// the blocks in [full_lo, full_hi) see all of those keys and need no mask.
struct QueryRange {
  Int lo, full_lo, full_hi, hi;
};
QueryRange query_range(const Int& n0, const SeqBounds& seq, const AttnScalars& s, int block_m, int block_n);

// Kernel bodies; `mod` may be null (plain attention). Variants register them with their mod.
// With `block_sparse` they also take a block mask (block_mask_args.h) and visit only its
// non-empty blocks, evaluating no mask on full ones.
void attention_forward(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse = false);
void attention_bwd_preprocess(KernelBuilder& k, const Params& p);
void attention_bwd_dkdv(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse = false);  // ATOMIC_DQ param
void attention_bwd_dq(KernelBuilder& k, const Params& p, ScoreMod* mod, bool block_sparse = false);
// Block masks (block_mask.cc): classes and ranges of one variant's mask, and the per-key-block
// ranges read from the classes.
void attention_block_mask(KernelBuilder& k, const Params& p, ScoreMod* mod);
void attention_block_mask_columns(KernelBuilder& k, const Params& p);
void attention_dq_convert(KernelBuilder& k, const Params& p);

}  // namespace tile::attention
