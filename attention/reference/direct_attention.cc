#include "attention/reference/direct_attention.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

namespace tile {
namespace reference {
namespace {

double read(const TensorView& t, std::initializer_list<int64_t> index) {
  return load_as_double(t.dtype, t.data, t.offset_of(index));
}

// (sequence start, length) pairs for q and k.
struct Sequences {
  std::vector<int64_t> q0, sq, k0, sk;
};

Sequences sequences_of(const AttnInputs& in) {
  Sequences s;
  if (in.cu_seqlens_q.defined()) {
    for (int64_t b = 0; b + 1 < in.cu_seqlens_q.size(0); ++b) {
      const int64_t a = static_cast<int64_t>(read(in.cu_seqlens_q, {b})), e = static_cast<int64_t>(read(in.cu_seqlens_q, {b + 1}));
      const int64_t c = static_cast<int64_t>(read(in.cu_seqlens_k, {b})), f = static_cast<int64_t>(read(in.cu_seqlens_k, {b + 1}));
      s.q0.push_back(a), s.sq.push_back(e - a), s.k0.push_back(c), s.sk.push_back(f - c);
    }
  } else {
    for (int64_t b = 0; b < in.q.size(0); ++b)
      s.q0.push_back(0), s.sq.push_back(in.q.size(1)), s.k0.push_back(0), s.sk.push_back(in.k.size(1));
  }
  return s;
}

}  // namespace

AttnForward direct_attention_forward(const AttnInputs& in, const AttnOptions& opt) {
  const bool varlen = in.cu_seqlens_q.defined();
  const int r = in.q.rank;
  const int64_t Hq = in.q.size(r - 2), Hk = in.k.size(r - 2), D = in.q.size(r - 1), Dv = in.v.size(r - 1);
  const double scale = opt.softmax_scale ? *opt.softmax_scale : 1.0 / std::sqrt(static_cast<double>(D));
  const Sequences seq = sequences_of(in);
  const int64_t B = static_cast<int64_t>(seq.sq.size());

  // The variant, evaluated from its registry entry like the other references do.
  attention::VariantArgs vargs = opt.variant_args;
  std::string vname = opt.variant;
  if (opt.alibi_slopes.defined()) vname = attention::with_alibi(vname, opt.alibi_slopes, vargs);
  const attention::VariantChain chain = attention::parse_variant(vname);
  const std::vector<attention::ArgSpec> specs = chain.args();
  attention::ProblemDims dims;
  dims.batch = B;
  dims.nheads = Hq;
  dims.nheads_k = Hk;
  dims.varlen = varlen;
  dims.total_q = varlen ? in.q.size(0) : B * in.q.size(1);
  dims.total_k = varlen ? in.k.size(0) : B * in.k.size(1);
  dims.seqlen_q = varlen ? 0 : in.q.size(1);
  dims.seqlen_k = varlen ? 0 : in.k.size(1);
  const attention::RefArgs va(&specs, &vargs, &dims, &seq.q0, &seq.k0);

  std::vector<int64_t> out_shape = in.q.sizes();
  out_shape.back() = Dv;
  AttnForward res{HostTensor(DType::f64, out_shape),
                  varlen ? HostTensor(DType::f64, {Hq, in.q.size(0)}) : HostTensor(DType::f64, {B, Hq, in.q.size(1)})};

  // Element access in either layout: batched (b, s, h, d) or varlen (start + s, h, d).
  auto at = [&](const TensorView& t, int64_t b, int64_t start, int64_t s, int64_t h, int64_t d) {
    return varlen ? read(t, {start + s, h, d}) : read(t, {b, s, h, d});
  };
  for (int64_t b = 0; b < B; ++b) {
    const int64_t sq = seq.sq[static_cast<size_t>(b)], sk = seq.sk[static_cast<size_t>(b)];
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / (Hq / Hk);
      for (int64_t i = 0; i < sq; ++i) {
        std::vector<double> s(static_cast<size_t>(sk), -std::numeric_limits<double>::infinity());
        for (int64_t j = 0; j < sk; ++j) {
          // flash-attn: key j is visible to query i iff
          //   i + sk - sq - left <= j <= i + sk - sq + right   (causal: right = 0; -1: unbounded)
          const int64_t right = opt.causal ? 0 : opt.window_right;
          if (opt.window_left >= 0 && j < i + sk - sq - opt.window_left) continue;
          if (right >= 0 && j > i + sk - sq + right) continue;
          const attention::RefIndex at_ij{b, h, i, j, sq, sk};
          bool kept = true;
          for (const attention::VariantSpec* v : chain.parts) kept = kept && (!v->mask_mod || v->mask_mod(va, at_ij));
          if (!kept) continue;
          double x = 0.0;
          for (int64_t c = 0; c < D; ++c)
            x += at(in.q, b, seq.q0[static_cast<size_t>(b)], i, h, c) * at(in.k, b, seq.k0[static_cast<size_t>(b)], j, hk, c);
          x *= scale;
          if (opt.softcap > 0.0) x = opt.softcap * std::tanh(x / opt.softcap);
          for (const attention::VariantSpec* v : chain.parts)
            if (v->score_mod) x = v->score_mod(va, at_ij, x);
          s[static_cast<size_t>(j)] = x;
        }
        double mx = -std::numeric_limits<double>::infinity();
        for (double x : s) mx = std::max(mx, x);
        const int64_t lse_index = varlen ? h * in.q.size(0) + seq.q0[static_cast<size_t>(b)] + i : (b * Hq + h) * sq + i;
        const int64_t out_row = varlen ? (seq.q0[static_cast<size_t>(b)] + i) * Hq + h : (b * sq + i) * Hq + h;
        if (mx == -std::numeric_limits<double>::infinity()) {
          res.lse.set_at(lse_index, mx);
          continue;  // out already 0
        }
        double sum = 0.0;
        for (double x : s) sum += std::exp(x - mx);
        res.lse.set_at(lse_index, mx + std::log(sum));
        for (int64_t c = 0; c < Dv; ++c) {
          double o = 0.0;
          for (int64_t j = 0; j < sk; ++j)
            o += std::exp(s[static_cast<size_t>(j)] - mx) / sum * at(in.v, b, seq.k0[static_cast<size_t>(b)], j, hk, c);
          res.out.set_at(out_row * Dv + c, o);
        }
      }
    }
  }
  return res;
}

}  // namespace reference
}  // namespace tile
