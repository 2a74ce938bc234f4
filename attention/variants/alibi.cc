// ALiBi (flash-attn's alibi_slopes): each query head h adds -slope[h] * |i + diag - j| to the
// score of key j, bottom-right aligned like causal masks. The bias is additive, so the backward
// needs no gradient hook. flash-attn's `alibi_slopes` option selects this variant.
#include <cmath>
#include <cstdlib>

#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct Alibi {
  static constexpr const char* name = "alibi";
  static constexpr const char* summary = "ALiBi: score -= slope[b?, h] * |i + seqlen_k - seqlen_q - j|";

  static std::vector<ArgSpec> args() {
    return {ArgSpec::tensor("alibi_slopes", DType::f32, {ArgDim::batch, ArgDim::nheads},
                            "per-head slopes, shared by the batch when given as (nheads)", /*batch_optional=*/true)};
  }
  // Every full-feature head-dim specialisation, both dtypes, with and without softcap.
  static CompiledFor compiled() {
    CompiledFor c;
    for (const BlockShape& s : block_shapes())
      if (!s.plain_only) c.head_dims.push_back(s.dims);
    c.softcaps = {false, true};
    return c;
  }

  static double score_ref(const RefArgs& a, const RefIndex& x, double s) {
    return s - a.at("alibi_slopes", {x.b, x.h}) * double(std::llabs(x.i + x.diag() - x.j));
  }
  static void generate(ArgGenerator& g) {
    // flash-attn's geometric slopes 2^(-8 (h + 1) / nheads), each batch row scaled at random.
    const double n = double(g.dims().nheads);
    for (const ArgSpec& a : args())
      g.tensor(a, [&](const std::vector<int64_t>& i) { return std::pow(2.0, -8.0 * double(i[1] + 1) / n) * g.uniform(0.5, 1.5); });
  }

  struct Kernel : VariantMod {
    Tile apply(const Tile& scores_log2, const ScoreContext& c) override {
      Scalar slope = tensor("alibi_slopes").at({c.b, c.h});
      Tile distance = abs((c.rows + c.seq.diag - c.cols).to<f32>());
      return scores_log2 - distance * (slope * kLog2e);
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(Alibi);
}  // namespace tile::attention
