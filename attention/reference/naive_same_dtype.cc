#include "attention/reference/naive_same_dtype.h"

#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "attention/reference/parallel_for.h"
#include "attention/reference/problem.h"

namespace tile {
namespace reference {
namespace {

// A matmul inner product: fp32 accumulation of exactly representable products.
float dot_f32(const double* a, const double* b, int64_t n) {
  float s = 0.0f;
  for (int64_t c = 0; c < n; ++c) s += static_cast<float>(a[c]) * static_cast<float>(b[c]);
  return s;
}

class NaiveModel {
 public:
  explicit NaiveModel(const Problem& p)
      : p_(p), args_(p.args()), scale_(static_cast<float>(p.scale)), cap_(static_cast<float>(p.softcap)) {}

  // Whether the variant's masks keep the pair.
  bool visible(const attention::RefIndex& x) const { return p_.variant_visible(args_, x); }

  // Rounds an fp32 intermediate to the dtype (exact: a float always fits a double).
  float r(float x) const { return static_cast<float>(round_to_dtype(p_.dtype, x)); }

  // The score after scale, softcap and the variant's score mods, each step rounded; `tanh_out`
  // keeps tanh's rounded output for the backward pass (torch's tanh backward reads it), `pre_mod`
  // the score the mods received.
  float score(float qk, const attention::RefIndex& x, float* tanh_out, float* pre_mod = nullptr) const {
    float s = r(r(qk) * scale_);
    if (cap_ > 0.0f) {
      const float t = r(std::tanh(r(s / cap_)));
      *tanh_out = t;
      s = r(t * cap_);
    }
    if (pre_mod) *pre_mod = s;
    if (p_.variant.has_score_mod()) s = r(static_cast<float>(p_.variant_score(args_, x, s)));
    return s;
  }

  // d(loss)/d(q.k) from dS (the softmax input gradient), through the variant's mods, softcap,
  // scale.
  float grad_through_score(float ds, float tanh_out, const attention::RefIndex& x, float pre_mod) const {
    float g = ds;
    if (p_.variant.has_score_mod()) g = r(g * static_cast<float>(p_.variant_score_grad(args_, x, pre_mod)));
    if (cap_ > 0.0f) {
      g = r(g * cap_);
      g = r(g * (1.0f - tanh_out * tanh_out));
      g = r(g / cap_);
    }
    return r(g * scale_);
  }

 private:
  const Problem& p_;
  attention::RefArgs args_;
  float scale_, cap_;
};

// Per query row: softmax statistics (fp32) kept so that the key pass recomputes the very same
// rounded probabilities.
struct RowStats {
  std::vector<float> max, sum, p_dot_dp;  // [h][t]
};

struct RowPosition {
  int64_t h, t, hk, b, sq, sk, i, k0;
};

RowPosition locate_row(const Problem& p, int64_t row) {
  RowPosition r;
  r.h = row / p.total_q;
  r.t = row % p.total_q;
  r.hk = p.kv_head_of(r.h);
  r.b = p.seq_of_q_token[static_cast<size_t>(r.t)];
  r.sq = p.q_len[static_cast<size_t>(r.b)];
  r.sk = p.k_len[static_cast<size_t>(r.b)];
  r.i = r.t - p.q_start[static_cast<size_t>(r.b)];
  r.k0 = p.k_start[static_cast<size_t>(r.b)];
  return r;
}

struct NaiveRun {
  std::vector<double> out;  // [h][t][dv], dtype values
  RowStats stats;
};

NaiveRun forward(const Problem& p, const NaiveModel& m) {
  NaiveRun run;
  const size_t rows = static_cast<size_t>(p.nheads_q * p.total_q);
  run.out.assign(rows * static_cast<size_t>(p.headdim_v), 0.0);
  run.stats.max.assign(rows, -std::numeric_limits<float>::infinity());
  run.stats.sum.assign(rows, 0.0f);
  run.stats.p_dot_dp.assign(rows, 0.0f);
  parallel_for(static_cast<int64_t>(rows), p.num_threads, [&](int64_t begin, int64_t end) {
    std::vector<float> s, acc;
    float unused_tanh = 0.0f;
    for (int64_t row = begin; row < end; ++row) {
      const RowPosition rp = locate_row(p, row);
      const IndexRange keys = p.keys_for_query(rp.i, rp.sq, rp.sk);
      if (keys.empty()) continue;
      const double* q = p.q_row(rp.h, rp.t);
      s.resize(static_cast<size_t>(keys.hi - keys.lo + 1));
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const attention::RefIndex x{rp.b, rp.h, rp.i, j, rp.sq, rp.sk};
        const float v = m.visible(x) ? m.score(dot_f32(q, p.k_row(rp.hk, rp.k0 + j), p.headdim), x, &unused_tanh)
                                     : -std::numeric_limits<float>::infinity();
        s[static_cast<size_t>(j - keys.lo)] = v;
        mx = std::max(mx, v);
      }
      if (mx == -std::numeric_limits<float>::infinity()) continue;  // every key masked
      float sum = 0.0f;
      for (float v : s) sum += std::exp(v - mx);
      acc.assign(static_cast<size_t>(p.headdim_v), 0.0f);
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const float prob = m.r(std::exp(s[static_cast<size_t>(j - keys.lo)] - mx) / sum);
        const double* v = p.v_row(rp.hk, rp.k0 + j);
        for (int64_t c = 0; c < p.headdim_v; ++c) acc[static_cast<size_t>(c)] += prob * static_cast<float>(v[c]);
      }
      for (int64_t c = 0; c < p.headdim_v; ++c)
        run.out[static_cast<size_t>(row * p.headdim_v + c)] = m.r(acc[static_cast<size_t>(c)]);
      run.stats.max[static_cast<size_t>(row)] = mx;
      run.stats.sum[static_cast<size_t>(row)] = sum;
    }
  });
  return run;
}

AttnForward forward_tensors(const Problem& p, const NaiveRun& run) {
  std::vector<double> lse(run.stats.max.size());
  for (size_t r = 0; r < lse.size(); ++r)
    lse[r] = run.stats.sum[r] > 0.0f ? static_cast<double>(run.stats.max[r] + std::log(run.stats.sum[r]))
                                     : -std::numeric_limits<double>::infinity();
  return {unpack_heads(run.out, p.nheads_q, p.total_q, p.headdim_v, p.out_shape(), p.dtype),
          unpack_lse(p, lse, DType::f32)};
}

// Everything the backward needs about one (query row, key) pair, recomputed bit-identically in
// the query pass and the key pass.
struct PairGrad {
  float prob, dscore;  // rounded P_ij and the gradient with respect to q.k
  float dscore_out = 0.0f, pre_mod = 0.0f;  // d loss / d (the modified score), the score before the mods
};

PairGrad pair_grad(const Problem& p, const NaiveModel& m, const NaiveRun& run, const std::vector<double>& dout,
                   const RowPosition& rp, int64_t row, int64_t j, bool with_ds) {
  float t = 0.0f, pre = 0.0f;
  const attention::RefIndex x{rp.b, rp.h, rp.i, j, rp.sq, rp.sk};
  if (!m.visible(x)) return {0.0f, 0.0f, 0.0f, 0.0f};
  const float s = m.score(dot_f32(p.q_row(rp.h, rp.t), p.k_row(rp.hk, rp.k0 + j), p.headdim), x, &t, &pre);
  const size_t r = static_cast<size_t>(row);
  const float prob = m.r(std::exp(s - run.stats.max[r]) / run.stats.sum[r]);
  if (!with_ds) return {prob, 0.0f, 0.0f, pre};
  const float dp = m.r(dot_f32(&dout[r * static_cast<size_t>(p.headdim_v)], p.v_row(rp.hk, rp.k0 + j), p.headdim_v));
  const float ds = m.r(prob * (dp - run.stats.p_dot_dp[r]));
  return {prob, m.grad_through_score(ds, t, x, pre), ds, pre};
}

AttnGrads backward(const Problem& p, const NaiveModel& m, NaiveRun& run, const std::vector<double>& dout_in) {
  const int64_t D = p.headdim, Dv = p.headdim_v;
  std::vector<double> dout(dout_in.size());
  for (size_t e = 0; e < dout.size(); ++e) dout[e] = round_to_dtype(p.dtype, dout_in[e]);

  // Softmax backward's row sum of P * dP (fp32), needed before any dS.
  parallel_for(p.nheads_q * p.total_q, p.num_threads, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const RowPosition rp = locate_row(p, row);
      const IndexRange keys = p.keys_for_query(rp.i, rp.sq, rp.sk);
      float acc = 0.0f;
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const PairGrad g = pair_grad(p, m, run, dout, rp, row, j, false);
        const float dp = m.r(dot_f32(&dout[static_cast<size_t>(row * Dv)], p.v_row(rp.hk, rp.k0 + j), Dv));
        acc += g.prob * dp;
      }
      run.stats.p_dot_dp[static_cast<size_t>(row)] = acc;
    }
  });

  std::vector<double> dq(static_cast<size_t>(p.nheads_q * p.total_q * D), 0.0);
  parallel_for(p.nheads_q * p.total_q, p.num_threads, [&](int64_t begin, int64_t end) {
    std::vector<float> acc;
    for (int64_t row = begin; row < end; ++row) {
      const RowPosition rp = locate_row(p, row);
      const IndexRange keys = p.keys_for_query(rp.i, rp.sq, rp.sk);
      acc.assign(static_cast<size_t>(D), 0.0f);
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const float g = pair_grad(p, m, run, dout, rp, row, j, true).dscore;
        const double* k = p.k_row(rp.hk, rp.k0 + j);
        for (int64_t c = 0; c < D; ++c) acc[static_cast<size_t>(c)] += g * static_cast<float>(k[c]);
      }
      for (int64_t c = 0; c < D; ++c) dq[static_cast<size_t>(row * D + c)] = m.r(acc[static_cast<size_t>(c)]);
    }
  });

  // dk/dv per key row: one rounded matmul result per q head, then the GQA sum over the group
  // (torch's backward of repeat_interleave: an fp32 sum of dtype values, rounded once).
  std::vector<double> dk(static_cast<size_t>(p.nheads_k * p.total_k * D), 0.0);
  std::vector<double> dv(static_cast<size_t>(p.nheads_k * p.total_k * Dv), 0.0);
  attention::RefGrads arg_grads = p.empty_grads();
  std::mutex arg_grads_lock;
  const bool with_arg_grads = p.variant.has_arg_grads();
  parallel_for(p.nheads_k * p.total_k, p.num_threads, [&](int64_t begin, int64_t end) {
    std::vector<float> ak, av, gk, gv;
    const attention::RefArgs va = p.args();
    attention::RefGrads local = p.empty_grads();
    for (int64_t krow = begin; krow < end; ++krow) {
      const int64_t hk = krow / p.total_k, tk = krow % p.total_k;
      const int64_t b = p.seq_of_k_token[static_cast<size_t>(tk)];
      const int64_t j = tk - p.k_start[static_cast<size_t>(b)], q0 = p.q_start[static_cast<size_t>(b)];
      const IndexRange queries = p.queries_for_key(j, p.q_len[static_cast<size_t>(b)], p.k_len[static_cast<size_t>(b)]);
      gk.assign(static_cast<size_t>(D), 0.0f);
      gv.assign(static_cast<size_t>(Dv), 0.0f);
      for (int64_t h = hk * p.group; h < (hk + 1) * p.group; ++h) {
        ak.assign(static_cast<size_t>(D), 0.0f);
        av.assign(static_cast<size_t>(Dv), 0.0f);
        for (int64_t i = queries.lo; i <= queries.hi; ++i) {
          const int64_t row = h * p.total_q + q0 + i;
          const RowPosition rp = locate_row(p, row);
          const PairGrad g = pair_grad(p, m, run, dout, rp, row, j, true);
          if (with_arg_grads)
            p.variant_arg_grads(va, {rp.b, rp.h, rp.i, j, rp.sq, rp.sk}, g.pre_mod, g.dscore_out, local);
          const double* q = p.q_row(h, q0 + i);
          const double* dO = &dout[static_cast<size_t>(row * Dv)];
          for (int64_t c = 0; c < D; ++c) ak[static_cast<size_t>(c)] += g.dscore * static_cast<float>(q[c]);
          for (int64_t c = 0; c < Dv; ++c) av[static_cast<size_t>(c)] += g.prob * static_cast<float>(dO[c]);
        }
        for (int64_t c = 0; c < D; ++c) gk[static_cast<size_t>(c)] += m.r(ak[static_cast<size_t>(c)]);
        for (int64_t c = 0; c < Dv; ++c) gv[static_cast<size_t>(c)] += m.r(av[static_cast<size_t>(c)]);
      }
      for (int64_t c = 0; c < D; ++c) dk[static_cast<size_t>(krow * D + c)] = m.r(gk[static_cast<size_t>(c)]);
      for (int64_t c = 0; c < Dv; ++c) dv[static_cast<size_t>(krow * Dv + c)] = m.r(gv[static_cast<size_t>(c)]);
    }
    if (with_arg_grads) {
      std::lock_guard<std::mutex> hold(arg_grads_lock);
      arg_grads.merge(local);
    }
  });
  return {unpack_heads(dq, p.nheads_q, p.total_q, D, p.q_shape, p.dtype),
          unpack_heads(dk, p.nheads_k, p.total_k, D, p.k_shape, p.dtype),
          unpack_heads(dv, p.nheads_k, p.total_k, Dv, p.v_shape, p.dtype), arg_grads.tensors(DType::f32)};
}

}  // namespace

AttnForward naive_attention_forward(const AttnInputs& inputs, const AttnOptions& options) {
  const Problem p = make_problem(inputs, options);
  const NaiveModel m(p);
  return forward_tensors(p, forward(p, m));
}

AttnGrads naive_attention_backward(const AttnInputs& inputs, const AttnOptions& options, const TensorView& dout) {
  return naive_attention_forward_backward(inputs, options, dout).grads;
}

AttnForwardBackward naive_attention_forward_backward(const AttnInputs& inputs, const AttnOptions& options,
                                                     const TensorView& dout) {
  const Problem p = make_problem(inputs, options);
  const std::vector<double> dO = pack_dout(p, dout);
  const NaiveModel m(p);
  NaiveRun run = forward(p, m);
  AttnForward fwd = forward_tensors(p, run);
  return {std::move(fwd), backward(p, m, run, dO)};
}

}  // namespace reference
}  // namespace tile
