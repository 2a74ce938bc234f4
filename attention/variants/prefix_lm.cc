// Prefix-LM: each sequence's first prefix_len[b] keys are visible to every query (a
// bidirectional prefix); the rest is causal (bottom-right aligned).
#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct PrefixLm {
  static constexpr const char* name = "prefix_lm";
  static constexpr const char* summary = "key j visible to query i if j < prefix_len[b] or j <= i + seqlen_k - seqlen_q";

  static std::vector<ArgSpec> args() {
    return {ArgSpec::tensor("prefix_len", DType::i32, {ArgDim::batch}, "length of each sequence's bidirectional prefix")};
  }
  static bool mask_ref(const RefArgs& a, const RefIndex& x) {
    return x.j < int64_t(a.at("prefix_len", {x.b})) || x.j <= x.i + x.diag();
  }
  static void generate(ArgGenerator& g) {
    g.tensor(args()[0], [&](const std::vector<int64_t>& i) { return double(g.uniform_int(0, g.len_k(i[0]))); });
  }

  // Speed runs: a prefix of a quarter of each sequence.
  static void bench_args(ArgGenerator& g) {
    g.tensor(args()[0], [&](const std::vector<int64_t>& i) { return double(g.len_k(i[0]) / 4); });
  }

  struct Kernel : VariantMod {
    Tile mask(const ScoreContext& c) override {
      Scalar prefix = tensor("prefix_len").at({c.b});
      return (c.cols < prefix) | (c.cols <= c.rows + c.seq.diag);
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(PrefixLm);
}  // namespace tile::attention
