// Document masking: a sequence packs several documents; query i sees key j only when both carry
// the same document id. Query i is the token at key position i + seqlen_k - seqlen_q (bottom-right
// aligned, like causal masks), so one id per key token serves both sides.
#include <algorithm>

#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct DocumentMask {
  static constexpr const char* name = "document_mask";
  static constexpr const char* summary = "query i sees key j only if document_id[i] == document_id[j]";

  static std::vector<ArgSpec> args() {
    return {ArgSpec::tensor("document_id", DType::i32, {ArgDim::batch, ArgDim::seqlen_k},
                            "the document of each key token (non-decreasing within a sequence)")};
  }
  static bool mask_ref(const RefArgs& a, const RefIndex& x) {
    const int64_t qi = x.i + x.diag();
    return qi >= 0 && a.at("document_id", {x.b, qi}) == a.at("document_id", {x.b, x.j});
  }
  static void generate(ArgGenerator& g) {
    // Documents of random lengths: each token starts a new one with probability 1/8.
    std::vector<std::vector<int64_t>> ids;
    for (int64_t b = 0; b < g.dims().batch; ++b) {
      ids.emplace_back();
      int64_t doc = 0;
      for (int64_t j = 0; j < g.len_k(b); ++j) {
        if (j > 0 && g.uniform_int(0, 7) == 0) ++doc;
        ids.back().push_back(doc);
      }
    }
    g.tensor(args()[0], [&](const std::vector<int64_t>& i) { return double(ids[size_t(i[0])][size_t(i[1])]); });
  }

  // Speed runs: 8 documents of equal length per sequence.
  static void bench_args(ArgGenerator& g) {
    g.tensor(args()[0], [&](const std::vector<int64_t>& i) { return double(i[1] * 8 / std::max<int64_t>(g.len_k(i[0]), 1)); });
  }

  struct Kernel : VariantMod {
    // Per program: the ids of the fixed side, loaded once outside the loop.
    Tile query_doc, key_doc;
    bool queries_fixed = false, keys_fixed = false;

    Tile ids_of(const ScoreContext& c, const Tile& positions) const {
      Tile in_seq = (positions >= 0) & (positions < c.seq.len_k);
      return tensor("document_id").gather({c.b, positions + c.seq.k_row0}, in_seq, -1.0);
    }
    void setup_queries(const QuerySide& q) override {
      ScoreContext c{q.rows, q.rows, q.b, q.h, q.seq};
      query_doc = ids_of(c, q.rows + q.seq.diag);
      queries_fixed = true;
    }
    void setup_keys(const KeySide& k) override {
      ScoreContext c{k.cols, k.cols, k.b, k.hk, k.seq};
      key_doc = ids_of(c, k.cols);
      keys_fixed = true;
    }
    Tile mask(const ScoreContext& c) override {
      Tile q = queries_fixed ? query_doc : ids_of(c, c.rows + c.seq.diag);
      Tile k = keys_fixed ? key_doc : ids_of(c, c.cols);
      return (q == k) & (q >= 0);
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(DocumentMask);
}  // namespace tile::attention
