#include "attention/reference/reference_fp64.h"

#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "attention/reference/parallel_for.h"
#include "attention/reference/problem.h"

namespace tile {
namespace reference {
namespace {

double dot(const double* a, const double* b, int64_t n) {
  double s = 0.0;
  for (int64_t c = 0; c < n; ++c) s += a[c] * b[c];
  return s;
}

// The score of one (query, key) pair and its derivative with respect to q.k.
struct Score {
  double value;
  double d_dot;
  double pre_mod;  // after scale and softcap, before the variant's mods
};

// Scale, softcap, then the variant's score mods (ALiBi among them).
Score score(const Problem& p, double qk, const attention::RefArgs& a, const attention::RefIndex& x) {
  double s = qk * p.scale;
  double d = p.scale;
  if (p.softcap > 0.0) {
    const double t = std::tanh(s / p.softcap);
    s = p.softcap * t;
    d *= 1.0 - t * t;
  }
  return {p.variant_score(a, x, s), d * p.variant_score_grad(a, x, s), s};
}

// Forward in head-major form: out [h][t][dv], lse [h][t].
struct PackedForward {
  std::vector<double> out, lse;
};

PackedForward forward_packed(const Problem& p) {
  PackedForward f;
  f.out.assign(static_cast<size_t>(p.nheads_q * p.total_q * p.headdim_v), 0.0);
  f.lse.assign(static_cast<size_t>(p.nheads_q * p.total_q), -std::numeric_limits<double>::infinity());
  parallel_for(p.nheads_q * p.total_q, p.num_threads, [&](int64_t begin, int64_t end) {
    std::vector<double> s;
    const attention::RefArgs va = p.args();
    for (int64_t row = begin; row < end; ++row) {
      const int64_t h = row / p.total_q, t = row % p.total_q, hk = p.kv_head_of(h);
      const int64_t b = p.seq_of_q_token[static_cast<size_t>(t)];
      const int64_t sq = p.q_len[static_cast<size_t>(b)], sk = p.k_len[static_cast<size_t>(b)];
      const int64_t i = t - p.q_start[static_cast<size_t>(b)], k0 = p.k_start[static_cast<size_t>(b)];
      const IndexRange keys = p.keys_for_query(i, sq, sk);
      if (keys.empty()) continue;  // out stays 0, lse -inf
      const double* q = p.q_row(h, t);
      s.resize(static_cast<size_t>(keys.hi - keys.lo + 1));
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const attention::RefIndex x{b, h, i, j, sq, sk};
        const double v = p.variant_visible(va, x) ? score(p, dot(q, p.k_row(hk, k0 + j), p.headdim), va, x).value
                                                  : -std::numeric_limits<double>::infinity();
        s[static_cast<size_t>(j - keys.lo)] = v;
        m = std::max(m, v);
      }
      if (m == -std::numeric_limits<double>::infinity()) continue;  // every key masked
      double sum = 0.0;
      for (double& v : s) sum += (v = std::exp(v - m));
      double* o = &f.out[static_cast<size_t>(row * p.headdim_v)];
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const double w = s[static_cast<size_t>(j - keys.lo)] / sum;
        const double* v = p.v_row(hk, k0 + j);
        for (int64_t c = 0; c < p.headdim_v; ++c) o[c] += w * v[c];
      }
      f.lse[static_cast<size_t>(row)] = m + std::log(sum);
    }
  });
  return f;
}

AttnForward to_tensors(const Problem& p, const PackedForward& f) {
  return {unpack_heads(f.out, p.nheads_q, p.total_q, p.headdim_v, p.out_shape(), DType::f64),
          unpack_lse(p, f.lse, DType::f64)};
}

// FlashAttention-2's backward structure: with lse and delta = rowsum(dout * out) per row,
// P_ij = exp(s_ij - lse_i) and dS_ij = P_ij (dout_i . v_j - delta_i), so dq is a pass over query
// rows and dk/dv a pass over key rows, each without reductions across threads.
AttnGrads backward_packed(const Problem& p, const PackedForward& f, const std::vector<double>& dout) {
  const int64_t D = p.headdim, Dv = p.headdim_v;
  std::vector<double> delta(static_cast<size_t>(p.nheads_q * p.total_q));
  for (size_t r = 0; r < delta.size(); ++r) delta[r] = dot(&dout[r * static_cast<size_t>(Dv)], &f.out[r * static_cast<size_t>(Dv)], Dv);

  std::vector<double> dq(static_cast<size_t>(p.nheads_q * p.total_q * D), 0.0);
  parallel_for(p.nheads_q * p.total_q, p.num_threads, [&](int64_t begin, int64_t end) {
    const attention::RefArgs va = p.args();
    for (int64_t row = begin; row < end; ++row) {
      const int64_t h = row / p.total_q, t = row % p.total_q, hk = p.kv_head_of(h);
      const int64_t b = p.seq_of_q_token[static_cast<size_t>(t)];
      const int64_t sq = p.q_len[static_cast<size_t>(b)], sk = p.k_len[static_cast<size_t>(b)];
      const int64_t i = t - p.q_start[static_cast<size_t>(b)], k0 = p.k_start[static_cast<size_t>(b)];
      const IndexRange keys = p.keys_for_query(i, sq, sk);
      const double* q = p.q_row(h, t);
      const double* dO = &dout[static_cast<size_t>(row * Dv)];
      const double lse = f.lse[static_cast<size_t>(row)], dl = delta[static_cast<size_t>(row)];
      double* g = &dq[static_cast<size_t>(row * D)];
      for (int64_t j = keys.lo; j <= keys.hi; ++j) {
        const double* k = p.k_row(hk, k0 + j);
        const attention::RefIndex x{b, h, i, j, sq, sk};
        if (!p.variant_visible(va, x)) continue;
        const Score sc = score(p, dot(q, k, D), va, x);
        const double prob = std::exp(sc.value - lse);
        const double ds = prob * (dot(dO, p.v_row(hk, k0 + j), Dv) - dl) * sc.d_dot;
        for (int64_t c = 0; c < D; ++c) g[c] += ds * k[c];
      }
    }
  });

  std::vector<double> dk(static_cast<size_t>(p.nheads_k * p.total_k * D), 0.0);
  std::vector<double> dv(static_cast<size_t>(p.nheads_k * p.total_k * Dv), 0.0);
  // Trainable variant arguments: each chunk sums its pairs, chunks merge under a lock.
  attention::RefGrads arg_grads = p.empty_grads();
  std::mutex arg_grads_lock;
  const bool with_arg_grads = p.variant.has_arg_grads();
  parallel_for(p.nheads_k * p.total_k, p.num_threads, [&](int64_t begin, int64_t end) {
    const attention::RefArgs va = p.args();
    attention::RefGrads local = p.empty_grads();
    for (int64_t krow = begin; krow < end; ++krow) {
      const int64_t hk = krow / p.total_k, tk = krow % p.total_k;
      const int64_t b = p.seq_of_k_token[static_cast<size_t>(tk)];
      const int64_t sq = p.q_len[static_cast<size_t>(b)], sk = p.k_len[static_cast<size_t>(b)];
      const int64_t j = tk - p.k_start[static_cast<size_t>(b)], q0 = p.q_start[static_cast<size_t>(b)];
      const IndexRange queries = p.queries_for_key(j, sq, sk);
      const double* k = p.k_row(hk, tk);
      const double* v = p.v_row(hk, tk);
      double* gk = &dk[static_cast<size_t>(krow * D)];
      double* gv = &dv[static_cast<size_t>(krow * Dv)];
      for (int64_t h = hk * p.group; h < (hk + 1) * p.group; ++h) {
        for (int64_t i = queries.lo; i <= queries.hi; ++i) {
          const int64_t row = h * p.total_q + q0 + i;
          const double* q = p.q_row(h, q0 + i);
          const double* dO = &dout[static_cast<size_t>(row * Dv)];
          const attention::RefIndex x{b, h, i, j, sq, sk};
          if (!p.variant_visible(va, x)) continue;
          const Score sc = score(p, dot(q, k, D), va, x);
          const double prob = std::exp(sc.value - f.lse[static_cast<size_t>(row)]);
          const double ds_out = prob * (dot(dO, v, Dv) - delta[static_cast<size_t>(row)]);
          const double ds = ds_out * sc.d_dot;
          if (with_arg_grads) p.variant_arg_grads(va, x, sc.pre_mod, ds_out, local);
          for (int64_t c = 0; c < Dv; ++c) gv[c] += prob * dO[c];
          for (int64_t c = 0; c < D; ++c) gk[c] += ds * q[c];
        }
      }
    }
    if (with_arg_grads) {
      std::lock_guard<std::mutex> hold(arg_grads_lock);
      arg_grads.merge(local);
    }
  });
  return {unpack_heads(dq, p.nheads_q, p.total_q, D, p.q_shape, DType::f64),
          unpack_heads(dk, p.nheads_k, p.total_k, D, p.k_shape, DType::f64),
          unpack_heads(dv, p.nheads_k, p.total_k, Dv, p.v_shape, DType::f64), arg_grads.tensors(DType::f64)};
}

}  // namespace

AttnForward attention_forward(const AttnInputs& inputs, const AttnOptions& options) {
  const Problem p = make_problem(inputs, options);
  return to_tensors(p, forward_packed(p));
}

AttnGrads attention_backward(const AttnInputs& inputs, const AttnOptions& options, const TensorView& dout) {
  return attention_forward_backward(inputs, options, dout).grads;
}

AttnForwardBackward attention_forward_backward(const AttnInputs& inputs, const AttnOptions& options,
                                               const TensorView& dout) {
  const Problem p = make_problem(inputs, options);
  const std::vector<double> dO = pack_dout(p, dout);  // validate before the expensive part
  const PackedForward f = forward_packed(p);
  return {to_tensors(p, f), backward_packed(p, f, dO)};
}

}  // namespace reference
}  // namespace tile
