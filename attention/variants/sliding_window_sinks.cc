// Sliding window with attention sinks (StreamingLLM): query i sees the `window` keys ending at
// its diagonal i + seqlen_k - seqlen_q, and the first `num_sinks` keys of the sequence (never
// keys past its diagonal).
#include "attention/variants/variant.h"

namespace tile::attention {
namespace {

struct SlidingWindowSinks {
  static constexpr const char* name = "sliding_window_sinks";
  static constexpr const char* summary = "causal window of `window` keys plus the first `num_sinks` keys";

  static std::vector<ArgSpec> args() {
    return {ArgSpec::i32("window", "keys each query sees up to its diagonal, itself included (>= 1)"),
            ArgSpec::i32("num_sinks", "leading keys every query sees (>= 0)")};
  }
  static bool mask_ref(const RefArgs& a, const RefIndex& x) {
    const int64_t diag = x.i + x.diag();
    const bool in_window = x.j <= diag && x.j > diag - int64_t(a.scalar("window"));
    const bool sink = x.j < int64_t(a.scalar("num_sinks")) && x.j <= diag;
    return in_window || sink;
  }
  static void generate(ArgGenerator& g) {
    g.scalar("window", double(g.uniform_int(1, 96)));
    g.scalar("num_sinks", double(g.uniform_int(0, 8)));
  }

  // Speed runs: a window of 1024 keys and 4 sinks.
  static void bench_args(ArgGenerator& g) {
    g.scalar("window", 1024);
    g.scalar("num_sinks", 4);
  }

  struct Kernel : VariantMod {
    Tile mask(const ScoreContext& c) override {
      Tile rel = c.rows + c.seq.diag - c.cols;  // >= 0 up to the diagonal
      Tile in_window = (rel >= 0) & (rel < scalar("window"));
      Tile sink = (c.cols < scalar("num_sinks")) & (rel >= 0);
      return in_window | sink;
    }
  };
};

}  // namespace
TILE_ATTENTION_VARIANT(SlidingWindowSinks);
}  // namespace tile::attention
