#include "distributed/reference_step_backend.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "attention/reference/reference.h"

namespace tile {
namespace dist {
namespace {

// A contiguous float64 copy of a (b, s, h, d) or (b, h, s) view.
struct Dense {
  HostTensor t;
  const double* p = nullptr;
  explicit Dense(const TensorView& v) : t(to_host_tensor(v, DType::f64)), p(static_cast<const double*>(t.data())) {}
};

void check_shapes(const StepBackwardArgs& a) {
  const char* names[] = {"dout", "q", "k", "v", "out", "dq", "dk", "dv"};
  const TensorView* views[] = {&a.dout, &a.q, &a.k, &a.v, &a.out, &a.dq, &a.dk, &a.dv};
  for (int i = 0; i < 8; ++i)
    if (views[i]->rank != 4)
      throw std::invalid_argument(std::string("backward: ") + names[i] + " expected rank 4 (b, s, h, d), got " +
                                  views[i]->shape_str());
  check_same_shape(a.dout, a.q, "backward dout/q");
  check_same_shape(a.out, a.q, "backward out/q");
  check_same_shape(a.dq, a.q, "backward dq/q");
  check_same_shape(a.dk, a.k, "backward dk/k");
  check_same_shape(a.dv, a.v, "backward dv/v");
  check_same_shape(a.k, a.v, "backward k/v");
  if (a.q.size(0) != a.k.size(0) || a.q.size(3) != a.k.size(3) || a.k.size(2) == 0 || a.q.size(2) % a.k.size(2) != 0)
    throw std::invalid_argument("backward: q " + a.q.shape_str() + " and k " + a.k.shape_str() +
                                " need equal batch and head_size and nheads_q % nheads_k == 0");
  if (a.lse.rank != 3 || a.lse.size(0) != a.q.size(0) || a.lse.size(1) != a.q.size(2) || a.lse.size(2) != a.q.size(1))
    throw std::invalid_argument("backward: lse expected (b, h_q, s_q) for q " + a.q.shape_str() + ", got " +
                                a.lse.shape_str());
}

// The backward below applies flash-attn's options pair by pair from the merged LSE; it has no
// hooks for registered variants, so neither direction takes one (interp and gpu run them).
void reject_registered_variant(const StepVariant& v) {
  if (!v.registered.empty())
    throw std::invalid_argument("variant: the reference step backend runs flash-attn's options only, not '" +
                                v.registered + "' (use the interp or gpu backend)");
}

}  // namespace

void ReferenceStepBackend::forward(const StepForwardArgs& args) {
  reject_registered_variant(args.variant);
  reference::AttnInputs in;
  in.q = args.q;
  in.k = args.k;
  in.v = args.v;
  reference::AttnOptions opt;
  opt.softmax_scale = args.softmax_scale;
  opt.causal = args.causal;
  opt.window_left = args.variant.window_left;
  opt.window_right = args.variant.window_right;
  opt.softcap = args.variant.softcap;
  opt.alibi_slopes = args.variant.alibi_slopes;
  opt.num_threads = num_threads_;
  in.cu_seqlens_q = args.varlen.cu_seqlens_q;
  in.cu_seqlens_k = args.varlen.cu_seqlens_k;
  reference::AttnForward f = reference::attention_forward(in, opt);
  ops_.copy(args.out, f.out.view());
  ops_.copy(args.lse, f.lse.view());
}

namespace {

// Tokens [start, start + len) of a varlen (total, h, d) tensor as a batch of one (1, len, h, d).
TensorView tokens_as_batch(const TensorView& t, int64_t start, int64_t len) {
  if (t.rank != 3) throw std::invalid_argument("varlen backward: expected (total, nheads, head_size), got " + describe(t));
  TensorView s = slice(t, 0, start, len);
  return TensorView(s.data, s.dtype, {1, len, s.size(1), s.size(2)}, {len * s.stride(0), s.stride(0), s.stride(1), s.stride(2)},
                    s.device);
}

// The same tokens of a varlen lse (h, total) as (1, h, len).
TensorView lse_tokens_as_batch(const TensorView& lse, int64_t start, int64_t len) {
  if (lse.rank != 2) throw std::invalid_argument("varlen backward: expected lse (nheads, total), got " + describe(lse));
  TensorView s = slice(lse, 1, start, len);
  return TensorView(s.data, s.dtype, {1, s.size(0), len}, {s.size(0) * s.stride(0), s.stride(0), s.stride(1)}, s.device);
}

std::vector<int64_t> read_cu_seqlens(const TensorView& cu, const char* what) {
  if (cu.rank != 1 || cu.dtype != DType::i32 || cu.size(0) < 2)
    throw std::invalid_argument(std::string(what) + ": expected int32 (batch + 1), got " + describe(cu));
  std::vector<int64_t> v(static_cast<size_t>(cu.size(0)));
  for (int64_t i = 0; i < cu.size(0); ++i) v[static_cast<size_t>(i)] = static_cast<int64_t>(load_as_double(cu.dtype, cu.data, cu.offset_of({i})));
  return v;
}

}  // namespace

void ReferenceStepBackend::backward(const StepBackwardArgs& a) {
  reject_registered_variant(a.variant);
  if (!a.varlen.defined()) return backward_batched(a);
  const std::vector<int64_t> cq = read_cu_seqlens(a.varlen.cu_seqlens_q, "cu_seqlens_q");
  const std::vector<int64_t> ck = read_cu_seqlens(a.varlen.cu_seqlens_k, "cu_seqlens_k");
  if (cq.size() != ck.size()) throw std::invalid_argument("cu_seqlens_k: expected as many sequences as cu_seqlens_q");
  for (const TensorView* g : {&a.dq, &a.dk, &a.dv}) ops_.fill(*g, 0.0);  // rows of empty sequences
  for (size_t i = 0; i + 1 < cq.size(); ++i) {
    const int64_t q0 = cq[i], nq = cq[i + 1] - cq[i], k0 = ck[i], nk = ck[i + 1] - ck[i];
    if (nq == 0) continue;
    StepBackwardArgs s = a;
    s.varlen = StepVarlen();
    s.dout = tokens_as_batch(a.dout, q0, nq);
    s.q = tokens_as_batch(a.q, q0, nq);
    s.out = tokens_as_batch(a.out, q0, nq);
    s.dq = tokens_as_batch(a.dq, q0, nq);
    s.lse = lse_tokens_as_batch(a.lse, q0, nq);
    s.k = tokens_as_batch(a.k, k0, nk);
    s.v = tokens_as_batch(a.v, k0, nk);
    s.dk = tokens_as_batch(a.dk, k0, nk);
    s.dv = tokens_as_batch(a.dv, k0, nk);
    if (a.variant.alibi_slopes.defined() && a.variant.alibi_slopes.rank == 2)
      s.variant.alibi_slopes = a.variant.alibi_slopes.select(0, static_cast<int64_t>(i));
    backward_batched(s);
  }
}

void ReferenceStepBackend::backward_batched(const StepBackwardArgs& a) {
  check_shapes(a);
  const int64_t B = a.q.size(0), Sq = a.q.size(1), Hq = a.q.size(2), D = a.q.size(3);
  const int64_t Sk = a.k.size(1), Hk = a.k.size(2), group = Hq / Hk;
  const Dense q(a.q), k(a.k), v(a.v), dout(a.dout), out(a.out), lse(a.lse);
  std::vector<double> dq(static_cast<size_t>(B * Sq * Hq * D), 0.0), dk(static_cast<size_t>(B * Sk * Hk * D), 0.0),
      dv(dk.size(), 0.0);
  auto qi = [&](int64_t b, int64_t s, int64_t h) { return ((b * Sq + s) * Hq + h) * D; };
  auto ki = [&](int64_t b, int64_t s, int64_t h) { return ((b * Sk + s) * Hk + h) * D; };
  // The variants, as the forward (attention/reference) applies them; causal is window_right 0.
  const int64_t wl = a.variant.window_left;
  const int64_t wr = a.causal ? 0 : a.variant.window_right;
  const double softcap = a.variant.softcap;
  const TensorView& alibi = a.variant.alibi_slopes;
  auto slope = [&](int64_t b, int64_t hq) {
    if (!alibi.defined()) return 0.0;
    return alibi.rank == 1 ? load_as_double(alibi.dtype, alibi.data, alibi.offset_of({hq}))
                           : load_as_double(alibi.dtype, alibi.data, alibi.offset_of({b, hq}));
  };

  // One task per (batch, kv head): it owns that head's dk/dv and its group's dq rows, so tasks
  // never write the same element.
  auto task = [&](int64_t b, int64_t hk) {
    for (int64_t hq = hk * group; hq < (hk + 1) * group; ++hq)
      for (int64_t i = 0; i < Sq; ++i) {
        const double row_lse = lse.p[(b * Hq + hq) * Sq + i];
        if (std::isinf(row_lse) && row_lse < 0) continue;  // a row that saw no key has no gradient
        const double* qrow = q.p + qi(b, i, hq);
        const double* gorow = dout.p + qi(b, i, hq);
        double delta = 0.0;  // rowsum(dout * out), from the merged out as flash-attn computes it
        for (int64_t d = 0; d < D; ++d) delta += gorow[d] * out.p[qi(b, i, hq) + d];
        // Bottom-right aligned mask: key j is visible when diag - left <= j <= diag + right.
        const int64_t diag = i + (Sk - Sq);
        const int64_t first_key = wl >= 0 ? std::max<int64_t>(0, diag - wl) : 0;
        const int64_t last_key = wr >= 0 ? std::min(Sk - 1, diag + wr) : Sk - 1;
        double* dqrow = dq.data() + qi(b, i, hq);
        for (int64_t j = first_key; j <= last_key; ++j) {
          const double* krow = k.p + ki(b, j, hk);
          const double* vrow = v.p + ki(b, j, hk);
          double qk = 0.0, dp = 0.0;
          for (int64_t d = 0; d < D; ++d) {
            qk += qrow[d] * krow[d];
            dp += gorow[d] * vrow[d];
          }
          // score = softcap(qk * scale) + alibi; d score / d qk carries the softcap's tanh'.
          double s = qk * a.softmax_scale, d_dot = a.softmax_scale;
          if (softcap > 0.0) {
            const double t = std::tanh(s / softcap);
            s = softcap * t;
            d_dot *= 1.0 - t * t;
          }
          s -= slope(b, hq) * static_cast<double>(std::llabs(diag - j));
          const double p = std::exp(s - row_lse);
          const double ds = p * (dp - delta) * d_dot;
          double* dkrow = dk.data() + ki(b, j, hk);
          double* dvrow = dv.data() + ki(b, j, hk);
          for (int64_t d = 0; d < D; ++d) {
            dqrow[d] += ds * krow[d];
            dkrow[d] += ds * qrow[d];
            dvrow[d] += p * gorow[d];
          }
        }
      }
  };
  const int64_t tasks = B * Hk;
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(tasks, num_threads_ > 0 ? num_threads_ : std::max(1u, std::thread::hardware_concurrency()))));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int64_t x = t; x < tasks; x += threads) task(x / Hk, x % Hk);
    });
  for (int64_t x = 0; x < tasks; x += threads) task(x / Hk, x % Hk);
  for (auto& th : pool) th.join();

  auto store = [&](const TensorView& dst, std::vector<double>& src, const std::vector<int64_t>& shape) {
    ops_.copy(dst, TensorView::contiguous(src.data(), DType::f64, shape));
  };
  store(a.dq, dq, a.q.sizes());
  store(a.dk, dk, a.k.sizes());
  store(a.dv, dv, a.v.sizes());
}

}  // namespace dist
}  // namespace tile
