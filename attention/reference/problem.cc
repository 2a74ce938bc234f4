#include "attention/reference/problem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace tile {
namespace reference {
namespace {

[[noreturn]] void fail(const std::string& arg, const std::string& expected, const std::string& actual) {
  throw std::invalid_argument(arg + ": expected " + expected + ", got " + actual);
}

std::string str(int64_t x) { return std::to_string(x); }

void check_present_cpu(const TensorView& t, const std::string& name) {
  if (!t.defined()) fail(name, "a tensor", "none");
  if (t.device.kind != DeviceKind::cpu) fail(name, "a cpu tensor", "device " + t.device.str());
}

void check_float(const TensorView& t, const std::string& name) {
  if (!is_float(t.dtype)) fail(name, "a float dtype (f16, bf16, f32, f64)", std::string("dtype ") + dtype_name(t.dtype));
}

void check_rank(const TensorView& t, const std::string& name, int rank, const std::string& layout) {
  if (t.rank != rank) fail(name, "rank " + str(rank) + " " + layout, "shape " + t.shape_str());
}

void check_dim(const TensorView& t, const std::string& name, int dim, const std::string& what, int64_t expected) {
  if (t.size(dim) != expected) fail(name, what + " " + str(expected), str(t.size(dim)) + " (shape " + t.shape_str() + ")");
}

// Reads a cu_seqlens tensor and checks it is 0, non-decreasing, ending at `total`.
std::vector<int64_t> read_cu_seqlens(const TensorView& t, const std::string& name, int64_t total,
                                     const std::string& total_name) {
  check_present_cpu(t, name);
  if (t.dtype != DType::i32) fail(name, "dtype i32", std::string("dtype ") + dtype_name(t.dtype));
  if (t.rank != 1 || t.size(0) < 2) fail(name, "shape (batch + 1) with batch >= 1", "shape " + t.shape_str());
  std::vector<int64_t> cu(static_cast<size_t>(t.size(0)));
  for (int64_t i = 0; i < t.size(0); ++i)
    cu[static_cast<size_t>(i)] = static_cast<int64_t>(load_as_double(t.dtype, t.data, i * t.stride(0)));
  if (cu[0] != 0) fail(name, name + "[0] == 0", str(cu[0]));
  for (size_t i = 1; i < cu.size(); ++i)
    if (cu[i] < cu[i - 1])
      fail(name, "non-decreasing values", str(cu[i]) + " after " + str(cu[i - 1]) + " at index " + str(static_cast<int64_t>(i)));
  if (cu.back() != total) fail(name, "last value == " + total_name + " (" + str(total) + ")", str(cu.back()));
  return cu;
}

// Copies a (token, head, dim) view (batched views are flattened over batch*seqlen) head-major.
std::vector<double> pack_head_major(const TensorView& t, int64_t tokens, int64_t heads, int64_t dim) {
  std::vector<double> out(static_cast<size_t>(tokens * heads * dim));
  const int r = t.rank;
  // Batched views have (batch, seqlen) in front; token = b * seqlen + s.
  const int64_t seqlen = r == 4 ? t.size(1) : tokens;
  for (int64_t tok = 0; tok < tokens; ++tok) {
    const int64_t base = r == 4 ? (tok / seqlen) * t.stride(0) + (tok % seqlen) * t.stride(1) : tok * t.stride(0);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t c = 0; c < dim; ++c)
        out[static_cast<size_t>((h * tokens + tok) * dim + c)] =
            load_as_double(t.dtype, t.data, base + h * t.stride(r - 2) + c * t.stride(r - 1));
  }
  return out;
}

}  // namespace

IndexRange Problem::keys_for_query(int64_t i, int64_t sq, int64_t sk) const {
  const int64_t diag = i + sk - sq;  // the key aligned with query i (bottom-right)
  IndexRange r;
  r.lo = window_left >= 0 ? std::max<int64_t>(0, diag - window_left) : 0;
  r.hi = window_right >= 0 ? std::min<int64_t>(sk - 1, diag + window_right) : sk - 1;
  return r;
}

IndexRange Problem::queries_for_key(int64_t j, int64_t sq, int64_t sk) const {
  // Visible iff diag(i) - left <= j <= diag(i) + right, diag(i) = i + sk - sq.
  IndexRange r;
  r.lo = window_right >= 0 ? std::max<int64_t>(0, j - window_right - (sk - sq)) : 0;
  r.hi = window_left >= 0 ? std::min<int64_t>(sq - 1, j + window_left - (sk - sq)) : sq - 1;
  return r;
}

void Problem::variant_arg_grads(const attention::RefArgs& a, const attention::RefIndex& x, double s, double dscore,
                                attention::RefGrads& g) const {
  std::vector<double> inputs;
  for (const attention::VariantSpec* v : variant.parts) {
    inputs.push_back(s);
    if (v->score_mod) s = v->score_mod(a, x, s);
  }
  double d = dscore;
  for (size_t i = variant.parts.size(); i-- > 0;) {
    const attention::VariantSpec* v = variant.parts[i];
    if (v->arg_grad) v->arg_grad(a, x, d, g);
    if (v->score_mod && v->score_mod_grad) d *= v->score_mod_grad(a, x, inputs[i]);
  }
}

attention::RefArgs Problem::args() const {
  return attention::RefArgs(&variant_specs, &variant_args, &dims, &q_start, &k_start);
}

bool Problem::variant_visible(const attention::RefArgs& a, const attention::RefIndex& x) const {
  for (const attention::VariantSpec* v : variant.parts)
    if (v->mask_mod && !v->mask_mod(a, x)) return false;
  return true;
}

double Problem::variant_score(const attention::RefArgs& a, const attention::RefIndex& x, double s) const {
  for (const attention::VariantSpec* v : variant.parts)
    if (v->score_mod) s = v->score_mod(a, x, s);
  return s;
}

double Problem::variant_score_grad(const attention::RefArgs& a, const attention::RefIndex& x, double s) const {
  double d = 1.0;
  for (const attention::VariantSpec* v : variant.parts) {
    if (!v->score_mod) continue;
    if (v->score_mod_grad) d *= v->score_mod_grad(a, x, s);  // additive mods: 1
    s = v->score_mod(a, x, s);
  }
  return d;
}

std::vector<int64_t> Problem::out_shape() const {
  std::vector<int64_t> s = q_shape;
  s.back() = headdim_v;
  return s;
}

std::vector<int64_t> Problem::lse_shape() const {
  if (varlen) return {nheads_q, total_q};
  return {batch, nheads_q, q_len.empty() ? 0 : q_len[0]};
}

int64_t Problem::lse_offset(int64_t h, int64_t t) const {
  if (varlen) return h * total_q + t;
  const int64_t sq = q_len[0];
  return (t / sq) * nheads_q * sq + h * sq + t % sq;
}

Problem make_problem(const AttnInputs& in, const AttnOptions& opt) {
  Problem p;
  check_present_cpu(in.q, "q");
  check_present_cpu(in.k, "k");
  check_present_cpu(in.v, "v");
  check_float(in.q, "q");
  check_float(in.k, "k");
  check_float(in.v, "v");
  if (in.k.dtype != in.q.dtype) fail("k", std::string("dtype ") + dtype_name(in.q.dtype) + " (same as q)", std::string("dtype ") + dtype_name(in.k.dtype));
  if (in.v.dtype != in.q.dtype) fail("v", std::string("dtype ") + dtype_name(in.q.dtype) + " (same as q)", std::string("dtype ") + dtype_name(in.v.dtype));
  p.dtype = in.q.dtype;

  p.varlen = in.cu_seqlens_q.defined() || in.cu_seqlens_k.defined();
  if (p.varlen && !in.cu_seqlens_q.defined()) fail("cu_seqlens_q", "a tensor when cu_seqlens_k is given", "none");
  if (p.varlen && !in.cu_seqlens_k.defined()) fail("cu_seqlens_k", "a tensor when cu_seqlens_q is given", "none");

  if (p.varlen) {
    const std::string layout = "(total_tokens, nheads, headdim)";
    check_rank(in.q, "q", 3, layout);
    check_rank(in.k, "k", 3, layout);
    check_rank(in.v, "v", 3, layout);
  } else {
    const std::string layout = "(batch, seqlen, nheads, headdim)";
    check_rank(in.q, "q", 4, layout);
    check_rank(in.k, "k", 4, layout);
    check_rank(in.v, "v", 4, layout);
    p.batch = in.q.size(0);
    if (p.batch <= 0) fail("q", "batch > 0", str(p.batch));
    check_dim(in.k, "k", 0, "batch (q's)", p.batch);
    check_dim(in.v, "v", 0, "batch (q's)", p.batch);
  }
  const int r = in.q.rank;
  p.nheads_q = in.q.size(r - 2);
  p.nheads_k = in.k.size(r - 2);
  p.headdim = in.q.size(r - 1);
  p.headdim_v = in.v.size(r - 1);
  if (p.nheads_q <= 0) fail("q", "nheads > 0", str(p.nheads_q));
  if (p.nheads_k <= 0) fail("k", "nheads > 0", str(p.nheads_k));
  if (p.headdim <= 0) fail("q", "headdim > 0", str(p.headdim));
  if (p.headdim_v <= 0) fail("v", "headdim > 0", str(p.headdim_v));
  check_dim(in.k, "k", r - 1, "headdim (q's)", p.headdim);
  if (p.nheads_q % p.nheads_k != 0)
    fail("k", "nheads dividing q's nheads (" + str(p.nheads_q) + ")", "nheads " + str(p.nheads_k));
  p.group = p.nheads_q / p.nheads_k;
  check_dim(in.v, "v", r - 2, "nheads (k's)", p.nheads_k);
  check_dim(in.v, "v", r - 3, p.varlen ? "total_k (k's)" : "seqlen (k's)", in.k.size(r - 3));

  if (p.varlen) {
    p.total_q = in.q.size(0);
    p.total_k = in.k.size(0);
    const std::vector<int64_t> cq = read_cu_seqlens(in.cu_seqlens_q, "cu_seqlens_q", p.total_q, "total_q");
    const std::vector<int64_t> ck = read_cu_seqlens(in.cu_seqlens_k, "cu_seqlens_k", p.total_k, "total_k");
    if (ck.size() != cq.size())
      fail("cu_seqlens_k", "length " + str(static_cast<int64_t>(cq.size())) + " (same as cu_seqlens_q)", "length " + str(static_cast<int64_t>(ck.size())));
    p.batch = static_cast<int64_t>(cq.size()) - 1;
    for (int64_t b = 0; b < p.batch; ++b) {
      p.q_start.push_back(cq[static_cast<size_t>(b)]);
      p.q_len.push_back(cq[static_cast<size_t>(b) + 1] - cq[static_cast<size_t>(b)]);
      p.k_start.push_back(ck[static_cast<size_t>(b)]);
      p.k_len.push_back(ck[static_cast<size_t>(b) + 1] - ck[static_cast<size_t>(b)]);
    }
  } else {
    const int64_t sq = in.q.size(1), sk = in.k.size(1);
    p.total_q = p.batch * sq;
    p.total_k = p.batch * sk;
    for (int64_t b = 0; b < p.batch; ++b) {
      p.q_start.push_back(b * sq);
      p.q_len.push_back(sq);
      p.k_start.push_back(b * sk);
      p.k_len.push_back(sk);
    }
  }
  p.seq_of_q_token.assign(static_cast<size_t>(p.total_q), 0);
  p.seq_of_k_token.assign(static_cast<size_t>(p.total_k), 0);
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t t = 0; t < p.q_len[static_cast<size_t>(b)]; ++t) p.seq_of_q_token[static_cast<size_t>(p.q_start[static_cast<size_t>(b)] + t)] = b;
    for (int64_t t = 0; t < p.k_len[static_cast<size_t>(b)]; ++t) p.seq_of_k_token[static_cast<size_t>(p.k_start[static_cast<size_t>(b)] + t)] = b;
  }

  // Options.
  if (opt.softmax_scale && !std::isfinite(*opt.softmax_scale))
    fail("softmax_scale", "a finite value", std::to_string(*opt.softmax_scale));
  p.scale = opt.softmax_scale ? *opt.softmax_scale : 1.0 / std::sqrt(static_cast<double>(p.headdim));
  if (!(opt.softcap >= 0.0) || !std::isfinite(opt.softcap)) fail("softcap", "a finite value >= 0 (0 = off)", std::to_string(opt.softcap));
  p.softcap = opt.softcap;
  if (opt.window_left < -1) fail("window_size", "left >= -1 (-1 = unbounded)", "left " + str(opt.window_left));
  if (opt.window_right < -1) fail("window_size", "right >= -1 (-1 = unbounded)", "right " + str(opt.window_right));
  p.window_left = opt.window_left;
  p.window_right = opt.causal ? 0 : opt.window_right;  // as flash-attn: causal overrides right
  if (opt.num_threads < 0) fail("num_threads", ">= 0 (0 = all cores)", str(opt.num_threads));
  p.num_threads = opt.num_threads;

  std::string variant = opt.variant;
  p.variant_args = opt.variant_args;
  if (opt.alibi_slopes.defined()) variant = attention::with_alibi(variant, opt.alibi_slopes, p.variant_args);
  p.variant = attention::parse_variant(variant, "variant");
  p.dims.batch = p.batch;
  p.dims.nheads = p.nheads_q;
  p.dims.nheads_k = p.nheads_k;
  p.dims.varlen = p.varlen;
  p.dims.total_q = p.total_q;
  p.dims.total_k = p.total_k;
  p.dims.seqlen_q = p.varlen ? 0 : in.q.size(1);
  p.dims.seqlen_k = p.varlen ? 0 : in.k.size(1);
  for (int64_t b = 0; p.varlen && b < p.batch; ++b) {
    p.dims.seqlen_q = std::max(p.dims.seqlen_q, p.q_len[static_cast<size_t>(b)]);
    p.dims.seqlen_k = std::max(p.dims.seqlen_k, p.k_len[static_cast<size_t>(b)]);
  }
  attention::check_variant_args(p.variant, p.variant_args, p.dims, Device::cpu());
  p.variant_specs = p.variant.args();

  p.q_shape = in.q.sizes();
  p.k_shape = in.k.sizes();
  p.v_shape = in.v.sizes();
  p.q = pack_head_major(in.q, p.total_q, p.nheads_q, p.headdim);
  p.k = pack_head_major(in.k, p.total_k, p.nheads_k, p.headdim);
  p.v = pack_head_major(in.v, p.total_k, p.nheads_k, p.headdim_v);
  return p;
}

std::vector<double> pack_dout(const Problem& p, const TensorView& dout) {
  check_present_cpu(dout, "dout");
  check_float(dout, "dout");
  const std::vector<int64_t> expected = p.out_shape();
  if (dout.sizes() != expected) {
    TensorView shape_only(nullptr, DType::f32, expected, contiguous_strides(expected));
    fail("dout", "shape " + shape_only.shape_str() + " (the output's)", "shape " + dout.shape_str());
  }
  return pack_head_major(dout, p.total_q, p.nheads_q, p.headdim_v);
}

HostTensor unpack_heads(const std::vector<double>& packed, int64_t nheads, int64_t tokens, int64_t dim,
                        const std::vector<int64_t>& shape, DType dtype) {
  HostTensor out(dtype, shape);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < nheads; ++h)
      for (int64_t c = 0; c < dim; ++c)
        out.set_at((t * nheads + h) * dim + c, packed[static_cast<size_t>((h * tokens + t) * dim + c)]);
  return out;
}

HostTensor unpack_lse(const Problem& p, const std::vector<double>& lse, DType dtype) {
  HostTensor out(dtype, p.lse_shape());
  for (int64_t h = 0; h < p.nheads_q; ++h)
    for (int64_t t = 0; t < p.total_q; ++t)
      out.set_at(p.lse_offset(h, t), lse[static_cast<size_t>(h * p.total_q + t)]);
  return out;
}

}  // namespace reference
}  // namespace tile
