// A validated attention problem in one internal form shared by the fp64 and the naive
// references: batched inputs are treated as varlen with equal lengths, and q/k/v are copied to
// head-major float64 arrays ([head][token][dim]) so that one head's keys are contiguous.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attention/reference/attention_types.h"

namespace tile {
namespace reference {

// Keys visible to one query row: [lo, hi] (empty when lo > hi), in sequence-local indices.
struct IndexRange {
  int64_t lo = 0, hi = -1;
  bool empty() const { return lo > hi; }
};

struct Problem {
  bool varlen = false;
  DType dtype = DType::f32;  // the inputs' dtype (what the naive reference rounds to)
  int64_t batch = 0, nheads_q = 0, nheads_k = 0, group = 1, headdim = 0, headdim_v = 0;
  int64_t total_q = 0, total_k = 0;
  std::vector<int64_t> q_start, q_len, k_start, k_len;  // per sequence
  std::vector<int64_t> seq_of_q_token, seq_of_k_token;  // token -> sequence
  std::vector<double> q, k, v;                          // [head][token][dim]
  std::vector<int64_t> q_shape, k_shape, v_shape;       // as given, for the outputs' layouts

  double scale = 1.0;
  double softcap = 0.0;
  int64_t window_left = -1, window_right = -1;  // causal already folded into window_right = 0
  attention::VariantChain variant;              // alibi_slopes included
  std::vector<attention::ArgSpec> variant_specs;  // variant.args()
  attention::VariantArgs variant_args;
  attention::ProblemDims dims;
  int num_threads = 0;

  int64_t kv_head_of(int64_t hq) const { return hq / group; }
  // Keys j visible to query i of a (seqlen_q, seqlen_k) sequence: bottom-right aligned window.
  IndexRange keys_for_query(int64_t i, int64_t sq, int64_t sk) const;
  // Queries i that see key j (the inverse of keys_for_query).
  IndexRange queries_for_key(int64_t j, int64_t sq, int64_t sk) const;
  // The variant's hooks, read through args() (which must outlive nothing but this Problem).
  attention::RefArgs args() const;
  bool has_mask() const { return variant.has_mask(); }
  // Whether the variant's masks keep the pair (the window is keys_for_query's).
  bool variant_visible(const attention::RefArgs& a, const attention::RefIndex& x) const;
  // The score after the variant's score mods, and d(that)/d(score).
  double variant_score(const attention::RefArgs& a, const attention::RefIndex& x, double s) const;
  double variant_score_grad(const attention::RefArgs& a, const attention::RefIndex& x, double s) const;
  // Adds the pair's gradients of trainable arguments, given the score before the mods and
  // d loss / d (the score after them).
  void variant_arg_grads(const attention::RefArgs& a, const attention::RefIndex& x, double s, double dscore,
                         attention::RefGrads& g) const;
  attention::RefGrads empty_grads() const { return attention::RefGrads(variant_args, variant_specs); }

  const double* q_row(int64_t h, int64_t t) const { return &q[static_cast<size_t>((h * total_q + t) * headdim)]; }
  const double* k_row(int64_t h, int64_t t) const { return &k[static_cast<size_t>((h * total_k + t) * headdim)]; }
  const double* v_row(int64_t h, int64_t t) const { return &v[static_cast<size_t>((h * total_k + t) * headdim_v)]; }

  // Shapes of the outputs.
  std::vector<int64_t> out_shape() const;
  std::vector<int64_t> lse_shape() const;
  // Flat row-major offset in q/out layout of (token, head, dim) — same for batched and varlen.
  int64_t lse_offset(int64_t h, int64_t t) const;
};

// Validates every argument (throws std::invalid_argument naming the argument, the expected and
// the actual) and builds the internal form.
Problem make_problem(const AttnInputs& inputs, const AttnOptions& options);

// Checks dout against the output shape and copies it head-major ([head][token][dim]).
std::vector<double> pack_dout(const Problem& p, const TensorView& dout);

// Head-major [head][token][dim] data -> HostTensor of `shape` in (token, head, dim) order.
HostTensor unpack_heads(const std::vector<double>& packed, int64_t nheads, int64_t tokens, int64_t dim,
                        const std::vector<int64_t>& shape, DType dtype);
// [head][token] -> lse layout.
HostTensor unpack_lse(const Problem& p, const std::vector<double>& lse, DType dtype);

}  // namespace reference
}  // namespace tile
