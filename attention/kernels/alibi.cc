// ALiBi as a score modification: a variant of attention is one short file.
//
// Each query head h adds -slope[h] * |i + (len_k - len_q) - j| to the score of key j (flash-attn's
// bottom-right aligned form). The bias is additive, so the backward needs no change: the kernels
// differentiate the softmax and pass dS through unchanged (ScoreMod::grad's default).
#include "attention/kernels/alibi.h"

#include "attention/kernels/attention_kernel.h"

namespace tile::attention {

namespace {

class Alibi : public ScoreMod {
 public:
  void declare_args(KernelBuilder& k) override {
    slopes_ = k.arg_ptr("alibi_slopes", DType::f32);          // (nheads) or (batch, nheads)
    batch_stride_ = k.arg_i32("alibi_slopes_batch_stride");  // 0 for a per-head vector
  }
  Tile apply(const Tile& scores_log2, const ScoreContext& c) override {
    Scalar slope = load_scalar(slopes_, c.b * batch_stride_ + c.h);
    Tile distance = abs((c.rows + c.seq.diag - c.cols).to<f32>());
    return scores_log2 - distance * (slope * kLog2e);
  }

 private:
  Ptr slopes_;
  Int batch_stride_;
};

}  // namespace

void alibi_forward(KernelBuilder& k, const Params& p) { Alibi m; attention_forward(k, p, &m); }
void alibi_bwd_dkdv(KernelBuilder& k, const Params& p) { Alibi m; attention_bwd_dkdv(k, p, &m); }
void alibi_bwd_dq(KernelBuilder& k, const Params& p) { Alibi m; attention_bwd_dq(k, p, &m); }

}  // namespace tile::attention
