// Per-head temperature, a score modification that is not additive: score *= temperature[h]
// (learned sharpness per head). Its gradient scales dS by the same factor.
#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct HeadTemperature {
  static constexpr const char* name = "head_temperature";
  static constexpr const char* summary = "score *= temperature[h] (not additive: has a gradient hook)";
  static constexpr bool reads_positions = false;  // only h: ring steps can run it

  static std::vector<ArgSpec> args() {
    return {ArgSpec::tensor("temperature", DType::f32, {ArgDim::nheads}, "multiplier of each q head's scores")};
  }
  static double score_ref(const RefArgs& a, const RefIndex& x, double s) { return s * a.at("temperature", {x.h}); }
  static double score_grad_ref(const RefArgs& a, const RefIndex& x, double) { return a.at("temperature", {x.h}); }
  static void generate(ArgGenerator& g) {
    g.tensor(args()[0], [&](const std::vector<int64_t>&) { return g.uniform(0.25, 2.0); });
  }

  struct Kernel : VariantMod {
    Tile apply(const Tile& scores_log2, const ScoreContext& c) override {
      return scores_log2 * tensor("temperature").at({c.h});
    }
    Tile grad(const Tile& dscores, const Tile&, const ScoreContext& c) override {
      return dscores * tensor("temperature").at({c.h});
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(HeadTemperature);
}  // namespace tile::attention
