// A learned relative-position bias (T5 / Shaw et al. style, clipped): each q head h adds
// bias_table[h, bucket] to the score of key j, bucket = clamp(j - i - diag + max_distance, 0,
// num_buckets - 1) with num_buckets = 2 * max_distance + 1 (bias_table's second dim), so keys
// further than max_distance from the diagonal share the edge buckets. The table is trained: the
// backward returns d loss / d bias_table (the sum of dS over the pairs of each (head, bucket)).
#include <algorithm>

#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct RelPosBias {
  static constexpr const char* name = "rel_pos_bias";
  static constexpr const char* summary = "score += bias_table[h, clamp(j - i - diag + (nb-1)/2)], with its gradient";

  static std::vector<ArgSpec> args() {
    return {ArgSpec::tensor("bias_table", DType::f32, {ArgDim::nheads, ArgDim::any},
                            "(nheads, num_buckets): bias per q head and clipped relative position; num_buckets odd")
                .with_grad()};
  }
  static int64_t bucket(const RefIndex& x, int64_t num_buckets) {
    const int64_t rel = x.j - x.i - x.diag() + (num_buckets - 1) / 2;
    return std::min(std::max<int64_t>(rel, 0), num_buckets - 1);
  }
  static double score_ref(const RefArgs& a, const RefIndex& x, double s) {
    return s + a.at("bias_table", {x.h, bucket(x, a.size("bias_table", 1))});
  }
  static void arg_grad_ref(const RefArgs& a, const RefIndex& x, double dscore, RefGrads& g) {
    g.add("bias_table", {x.h, bucket(x, a.size("bias_table", 1))}, dscore);
  }
  static void generate(ArgGenerator& g) {
    const int64_t max_distance = g.uniform_int(1, 40);
    g.tensor(args()[0], [&](const std::vector<int64_t>&) { return g.uniform(-2.0, 2.0); }, {2 * max_distance + 1});
  }

  // Speed runs: 257 buckets (max_distance 128).
  static void bench_args(ArgGenerator& g) {
    g.tensor(args()[0], [&](const std::vector<int64_t>&) { return g.uniform(-1.0, 1.0); }, {257});
  }

  struct Kernel : VariantMod {
    Tile bucket_of(const ScoreContext& c) const {
      Int half = (tensor("bias_table").sizes[1] - 1) / 2;
      Tile rel = c.cols - c.rows - c.seq.diag + half;
      return min(max(rel, Scalar(0)), tensor("bias_table").sizes[1] - 1);
    }
    Tile apply(const Tile& scores_log2, const ScoreContext& c) override {
      Tile bias = tensor("bias_table").gather({c.h, bucket_of(c)}, c.rows >= 0);
      return scores_log2 + bias * kLog2e;
    }
    // Most pairs of a long sequence sit beyond max_distance and share one of the two edge
    // buckets: an atomic add per pair onto those two addresses serialises (601 ms for a forward
    // and backward at 8x4096 on the H100). Each row's edge pairs are summed in registers first,
    // one atomic per row and edge; only the interior buckets, near the diagonal, go pair by pair.
    void accumulate_arg_grads(const Tile& dscores, const Tile&, const ScoreContext& c) override {
      const TensorArg& grad = grad_of("bias_table");
      Int last = tensor("bias_table").sizes[1] - 1;
      Tile in_seq = (c.rows < c.seq.len_q) & (c.cols < c.seq.len_k);
      Tile bucket = bucket_of(c);
      // (bucket > 0: with a single bucket the first edge is the last one.)
      Tile first_edge = in_seq & (bucket == Scalar(0)), last_edge = in_seq & (bucket == last) & (bucket > Scalar(0));
      Tile interior = in_seq & (bucket > Scalar(0)) & (bucket < last);
      grad.scatter_add({c.h, bucket}, dscores, interior);
      const int64_t rows = dscores.shape()[0];
      for (auto [edge, index] : {std::pair<Tile, Int>{first_edge, Int(0)}, std::pair<Tile, Int>{last_edge, last}}) {
        Tile row_sums = sum(where(edge, dscores, 0.0), 1);
        // A row with nothing to add skips its atomic (adding 0 would change nothing).
        grad.scatter_add({c.h, zeros({rows}, DType::i32) + index}, row_sums, row_sums != 0.0);
      }
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(RelPosBias);
}  // namespace tile::attention
