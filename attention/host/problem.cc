#include "attention/host/problem.h"

#include "attention/host/memory_overlap.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tile::attention {

namespace {

[[noreturn]] void bad(const std::string& arg, const std::string& expected, const std::string& actual) {
  throw std::invalid_argument(arg + ": expected " + expected + ", got " + actual);
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < d.size(); ++i) os << (i ? ", " : "") << d[i];
  os << ")";
  return os.str();
}

// An empty tensor may have no storage (PyTorch gives null data for zero elements).
bool is_empty(const TensorView& t) { return t.rank > 0 && t.numel() == 0; }

void check_defined(Backend& be, const TensorView& t, const char* name) {
  if (!t.defined() && !is_empty(t)) bad(name, "a tensor", "an undefined view (null data)");
  if (t.device != be.device())
    bad(name, "a tensor on " + be.device().str() + " (the " + be.name() + " backend)", "one on " + t.device.str());
}

bool fits_i32(int64_t v) { return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max(); }

// Elements reachable from data: 1 + sum((size - 1) * stride) over non-empty views.
int64_t extent_of(const TensorView& t) {
  int64_t e = 1;
  for (int d = 0; d < t.rank; ++d) {
    if (t.size(d) == 0) return 0;
    e += (t.size(d) - 1) * t.stride(d);
  }
  return e;
}

HeadOperand operand_of(const TensorView& t, const char* name, bool varlen) {
  if (t.stride(t.rank - 1) != 1)
    bad(name, "unit stride along head_dim (last dimension)", "stride " + std::to_string(t.stride(t.rank - 1)));
  for (int d = 0; d < t.rank; ++d)
    if (t.stride(d) < 0) bad(name, "non-negative strides", "stride " + std::to_string(t.stride(d)) + " in dim " + std::to_string(d));
  HeadOperand op;
  op.data = t.data;
  op.dtype = t.dtype;
  op.batch_stride = varlen ? 0 : t.stride(0);
  op.row_stride = t.stride(varlen ? 0 : 1);
  op.head_stride = t.stride(varlen ? 1 : 2);
  op.extent = extent_of(t);
  // A single row's stride is never used to address: give it one that meets what the exact
  // specialisations assume (rows_aligned), whatever the view says.
  if (t.size(varlen ? 0 : 1) == 1) op.row_stride = kRowAlignBytes;
  // Head offsets are computed in 64 bits by the kernels; strides are passed as 32-bit scalars.
  if (!fits_i32(op.batch_stride) || !fits_i32(op.row_stride) || !fits_i32(op.head_stride))
    bad(name, "strides within 32 bits", "strides (" + std::to_string(op.batch_stride) + ", " +
                                            std::to_string(op.row_stride) + ", " + std::to_string(op.head_stride) + ")");
  return op;
}

void check_rank(const TensorView& t, const char* name, int rank, const char* layout) {
  if (t.rank != rank) bad(name, std::string("rank ") + std::to_string(rank) + " " + layout, "shape " + t.shape_str());
}

std::vector<int32_t> read_cu_seqlens(Backend& be, const TensorView& cu, const char* name, int batch,
                                     int64_t total, int max_seqlen) {
  check_defined(be, cu, name);
  if (cu.dtype != DType::i32) bad(name, "int32", dtype_name(cu.dtype));
  if (cu.rank != 1 || cu.size(0) < 2) bad(name, "a 1-D tensor of batch + 1 >= 2 elements", "shape " + cu.shape_str());
  if (batch >= 0 && cu.size(0) != batch + 1) bad(name, std::to_string(batch + 1) + " elements (batch + 1)", std::to_string(cu.size(0)));
  if (cu.stride(0) != 1) bad(name, "a contiguous tensor", "stride " + std::to_string(cu.stride(0)));
  std::vector<int32_t> h(size_t(cu.size(0)));
  be.read(h.data(), cu.data, h.size() * sizeof(int32_t));
  if (h[0] != 0) bad(name, "cu_seqlens[0] == 0", std::to_string(h[0]));
  for (size_t i = 1; i < h.size(); ++i) {
    if (h[i] < h[i - 1])
      bad(name, "non-decreasing prefix sums", "cu_seqlens[" + std::to_string(i) + "] = " + std::to_string(h[i]) +
                                                   " < cu_seqlens[" + std::to_string(i - 1) + "] = " + std::to_string(h[i - 1]));
    if (h[i] - h[i - 1] > max_seqlen)
      bad(name, "sequence lengths <= max_seqlen " + std::to_string(max_seqlen),
          "length " + std::to_string(h[i] - h[i - 1]) + " for sequence " + std::to_string(i - 1));
  }
  if (h.back() != total) bad(name, "last element == total tokens " + std::to_string(total), std::to_string(h.back()));
  return h;
}

}  // namespace

bool rows_aligned(const HeadOperand& t) {
  const int64_t unit = kRowAlignBytes / int64_t(dtype_size(t.dtype));
  return reinterpret_cast<uintptr_t>(t.data) % kRowAlignBytes == 0 && t.batch_stride % unit == 0 &&
         t.row_stride % unit == 0 && t.head_stride % unit == 0 && t.row_stride > 0;
}

void use_ragged_unless_aligned(AttnProblem& p, std::initializer_list<std::pair<const HeadOperand*, const char*>> operands) {
  if (p.blocks.dims.ragged) return;
  for (auto [t, name] : operands)
    if (!rows_aligned(*t)) {
      // The ragged specialisation's own block shapes, not the exact one's: they differ where
      // the exact dims take larger blocks (the d=64 backward's 128 queries a step).
      p.blocks = block_shape_of({head_dim_bucket(p.head_dim), head_dim_bucket(p.head_dim_v), true}, p.blocks.plain_only);
      p.unaligned = name;
      return;
    }
}

HeadOperand check_like(Backend& be, const TensorView& t, const char* name, const TensorView& like,
                       const char* like_name, bool varlen, int64_t last_dim) {
  check_defined(be, t, name);
  if (t.dtype != like.dtype) bad(name, std::string(dtype_name(like.dtype)) + " (like " + like_name + ")", dtype_name(t.dtype));
  std::vector<int64_t> want = like.sizes();
  std::string how = std::string("like ") + like_name;
  if (last_dim >= 0 && want.back() != last_dim) {
    want.back() = last_dim;
    how += ", with v's head_dim " + std::to_string(last_dim);
  }
  if (t.sizes() != want) bad(name, "shape " + dims_str(want) + " (" + how + ")", t.shape_str());
  return operand_of(t, name, varlen);
}

namespace {

// "(129..256, 65..128), ..." for the compiled (head_dim, head_dim_v) pairs with unequal buckets.
std::string compiled_pairs() {
  auto range = [](int bucket) {
    const int lo = bucket == 64 ? 1 : bucket / 2 + 1;
    return std::to_string(lo) + ".." + std::to_string(bucket);
  };
  std::string out;
  for (const BlockShape& s : block_shapes())
    if (s.dims.ragged && s.dims.dim != s.dims.dim_v)
      out += (out.empty() ? "" : ", ") + std::string("(") + range(s.dims.dim) + ", " + range(s.dims.dim_v) + ")";
  return out;
}

}  // namespace

namespace {

// The variant a call asks for (flash-attn's alibi_slopes is the "alibi" variant, first in the
// chain), its arguments checked against their declarations, and on a backend with a fixed
// kernel table, that the table has it for this specialisation.
void resolve_variant(Backend& be, AttnProblem& p, const FlashAttnOptions& o) {
  std::string name = o.variant;
  p.variant_args = o.variant_args;
  if (o.alibi_slopes.defined() || is_empty(o.alibi_slopes)) name = with_alibi(name, o.alibi_slopes, p.variant_args);
  p.variant = parse_variant(name, "variant");
  p.dims.batch = p.batch;
  p.dims.nheads = p.nheads;
  p.dims.nheads_k = p.nheads_k;
  p.dims.seqlen_q = p.seqlen_q;
  p.dims.seqlen_k = p.seqlen_k;
  p.dims.varlen = p.varlen;
  p.dims.total_q = p.total_q;
  p.dims.total_k = p.total_k;
  check_variant_args(p.variant, p.variant_args, p.dims, be.device());
  if (be.builds_any_specialization()) return;
  const std::string shape = "head_dim " + std::to_string(p.head_dim) + " with head_dim_v " + std::to_string(p.head_dim_v);
  if (p.blocks.plain_only) {
    if (p.softcap > 0) bad("softcap", "0 (" + shape + " is compiled for plain attention only on the " + be.name() + " backend)", std::to_string(p.softcap));
    if (!p.variant.empty())
      bad("variant", "none (" + shape + " is compiled for plain attention only on the " + be.name() + " backend)", p.variant.name);
  }
  if (p.variant.parts.size() > 1)
    bad("variant", "one variant (the " + be.name() + " backend compiles variants one at a time; the interpreter runs chains)", p.variant.name);
  for (const VariantSpec* v : p.variant.parts) {
    const CompiledFor& c = v->compiled;
    const bool dims_ok = std::find(c.head_dims.begin(), c.head_dims.end(), p.blocks.dims) != c.head_dims.end();
    const bool dtype_ok = std::find(c.dtypes.begin(), c.dtypes.end(), p.dtype) != c.dtypes.end();
    const bool cap_ok = std::find(c.softcaps.begin(), c.softcaps.end(), p.softcap > 0) != c.softcaps.end();
    if (!dims_ok && p.unaligned)
      bad(p.unaligned, "rows aligned to 16 bytes (a 16-byte aligned base and strides in whole 16-byte units: " + v->name +
                           " is compiled for head dim " + shape + " with aligned rows only on the " + be.name() + " backend)",
          "unaligned rows");
    if (!dims_ok) {
      std::string list;
      for (const HeadDims& d : c.head_dims)
        list += (list.empty() ? "" : ", ") + std::to_string(d.dim) + "/" + std::to_string(d.dim_v) + (d.ragged ? " ragged" : "");
      bad("variant", "a head dim the " + be.name() + " backend compiles " + v->name + " for (" + list + ")", shape);
    }
    if (!dtype_ok) bad("variant", v->name + " compiled for another dtype on the " + be.name() + " backend", dtype_name(p.dtype));
    if (!cap_ok) bad("softcap", std::string(p.softcap > 0 ? "0" : "> 0") + " (" + v->name + " is compiled " +
                                    (p.softcap > 0 ? "without" : "only with") + " softcap on the " + be.name() + " backend)",
                     std::to_string(p.softcap));
  }
}

}  // namespace

// A block mask serves the calls shaped like the one it was built for.
void check_block_mask(Backend& be, AttnProblem& p, const BlockMask& m) {
  auto mismatch = [&](const std::string& what, const std::string& built, const std::string& call) {
    bad("block_mask", "a mask built for this call's " + what + " (" + call + ")", "one built for " + built);
  };
  if (m.backend != &be) bad("block_mask", "a mask built on this " + be.name() + " backend", "one from another backend");
  if (m.variant != p.variant.name) mismatch("variant", "'" + m.variant + "'", "'" + p.variant.name + "'");
  if (m.varlen != p.varlen) mismatch("layout", m.varlen ? "varlen" : "batched", p.varlen ? "varlen" : "batched");
  if (m.batch != p.batch || m.seqlen_q != p.seqlen_q || m.seqlen_k != p.seqlen_k)
    mismatch("batch and lengths", std::to_string(m.batch) + " x " + std::to_string(m.seqlen_q) + "/" + std::to_string(m.seqlen_k),
             std::to_string(p.batch) + " x " + std::to_string(p.seqlen_q) + "/" + std::to_string(p.seqlen_k));
  if (m.heads != 1 && m.heads != p.nheads) mismatch("heads", std::to_string(m.heads), std::to_string(p.nheads));
  if (m.window_left != p.window_left || m.window_right != p.window_right)
    mismatch("window (causal is window (-1, 0))",
             "(" + std::to_string(m.window_left) + ", " + std::to_string(m.window_right) + ")",
             "(" + std::to_string(p.window_left) + ", " + std::to_string(p.window_right) + ")");
  // The block shapes the mask's rows and columns count in: the head dims' (an exact and a
  // ragged specialisation may differ, as may the backward's with softcap).
  auto blocks_str = [](const Blocks& f, const Blocks& b) {
    return std::to_string(f.block_m) + "x" + std::to_string(f.block_n) + " forward, " + std::to_string(b.block_m) +
           "x" + std::to_string(b.block_n) + " backward";
  };
  auto same = [](const Blocks& a, const Blocks& b) { return a.block_m == b.block_m && a.block_n == b.block_n; };
  const Blocks& call_bwd = p.blocks.bwd_for(p.softcap > 0);
  if (m.dims.dim != p.blocks.dims.dim || m.dims.dim_v != p.blocks.dims.dim_v || !same(m.fwd.blocks, p.blocks.fwd) ||
      !same(m.bwd.blocks, call_bwd))
    mismatch("head dims' block shapes",
             std::to_string(m.dims.dim) + "/" + std::to_string(m.dims.dim_v) + ", " + blocks_str(m.fwd.blocks, m.bwd.blocks),
             std::to_string(p.blocks.dims.dim) + "/" + std::to_string(p.blocks.dims.dim_v) + ", " +
                 blocks_str(p.blocks.fwd, call_bwd));
  p.block_mask = &m;
}

std::vector<NamedView> variant_tensors(const AttnProblem& p) {
  std::vector<NamedView> out;
  for (const auto& [name, value] : p.variant_args)
    if (value.is_tensor) out.push_back({value.tensor, name.c_str()});
  return out;
}

AttnProblem make_problem(Backend& be, const TensorView& q, const TensorView& k, const TensorView& v,
                         const TensorView& out, const TensorView& lse, const VarlenSeqs* seqs,
                         const FlashAttnOptions& o, bool with_outputs) {
  AttnProblem p;
  p.varlen = seqs != nullptr;
  const int rank = p.varlen ? 3 : 4;
  const char* layout = p.varlen ? "(total_tokens, nheads, head_dim)" : "(batch, seqlen, nheads, head_dim)";
  check_defined(be, q, "q");
  check_defined(be, k, "k");
  check_defined(be, v, "v");
  check_rank(q, "q", rank, layout);
  check_rank(k, "k", rank, layout);
  check_rank(v, "v", rank, layout);
  if (q.dtype != DType::bf16 && q.dtype != DType::f16) bad("q", "dtype bf16 or fp16", dtype_name(q.dtype));
  if (k.dtype != q.dtype) bad("k", std::string("dtype ") + dtype_name(q.dtype) + " (like q)", dtype_name(k.dtype));
  if (v.dtype != q.dtype) bad("v", std::string("dtype ") + dtype_name(q.dtype) + " (like q)", dtype_name(v.dtype));
  p.dtype = q.dtype;
  const int hd = rank - 1, hh = rank - 2;
  p.head_dim = int(q.size(hd));
  p.head_dim_v = int(v.size(hd));
  const std::string dim_range = "between 1 and " + std::to_string(kMaxHeadDim);
  if (p.head_dim < 1 || p.head_dim > kMaxHeadDim) bad("q", "head_dim " + dim_range, std::to_string(p.head_dim));
  if (k.size(hd) != p.head_dim) bad("k", "head_dim " + std::to_string(p.head_dim) + " (like q)", std::to_string(k.size(hd)));
  if (p.head_dim_v < 1 || p.head_dim_v > kMaxHeadDim)
    bad("v", "head_dim (head_dim_v, may differ from q's) " + dim_range, std::to_string(p.head_dim_v));
  std::optional<BlockShape> shape = block_shape_for(p.head_dim, p.head_dim_v, be.builds_any_specialization());
  if (!shape)
    bad("v", "head_dim_v " + std::to_string(p.head_dim) + " (like q) or a pair (head_dim, head_dim_v) the " + be.name() +
                 " backend has kernels for: " + compiled_pairs(),
        "head_dim " + std::to_string(p.head_dim) + " with head_dim_v " + std::to_string(p.head_dim_v));
  p.blocks = *shape;
  p.nheads = int(q.size(hh));
  p.nheads_k = int(k.size(hh));
  if (p.nheads <= 0 || p.nheads_k <= 0) bad("k", "at least one head", "shape " + k.shape_str());
  if (v.size(hh) != p.nheads_k) bad("v", "nheads " + std::to_string(p.nheads_k) + " (like k)", std::to_string(v.size(hh)));
  if (p.nheads % p.nheads_k != 0)
    bad("k", "nheads_k dividing nheads_q " + std::to_string(p.nheads) + " (GQA/MQA)", "nheads_k " + std::to_string(p.nheads_k));
  for (int d = 0; d < rank - 2; ++d)
    if (v.size(d) != k.size(d)) bad("v", "the leading dims of k " + k.shape_str(), "shape " + v.shape_str());

  if (p.varlen) {
    p.total_q = q.size(0);
    p.total_k = k.size(0);
    if (seqs->max_seqlen_q <= 0) bad("max_seqlen_q", "a positive length", std::to_string(seqs->max_seqlen_q));
    if (seqs->max_seqlen_k <= 0) bad("max_seqlen_k", "a positive length", std::to_string(seqs->max_seqlen_k));
    auto cq = read_cu_seqlens(be, seqs->cu_seqlens_q, "cu_seqlens_q", -1, p.total_q, seqs->max_seqlen_q);
    read_cu_seqlens(be, seqs->cu_seqlens_k, "cu_seqlens_k", int(cq.size()) - 1, p.total_k, seqs->max_seqlen_k);
    p.batch = int(cq.size()) - 1;
    p.seqlen_q = seqs->max_seqlen_q;
    p.seqlen_k = seqs->max_seqlen_k;
    p.cu_seqlens_q = seqs->cu_seqlens_q;
    p.cu_seqlens_k = seqs->cu_seqlens_k;
  } else {
    p.batch = int(q.size(0));
    p.seqlen_q = int(q.size(1));
    p.seqlen_k = int(k.size(1));
    if (k.size(0) != p.batch) bad("k", "batch " + std::to_string(p.batch) + " (like q)", std::to_string(k.size(0)));
    // flash-attn accepts empty batches and sequences: out is then all zeros (no key to attend
    // to), and nothing is launched for an empty grid.
    p.total_q = int64_t(p.batch) * p.seqlen_q;
    p.total_k = int64_t(p.batch) * p.seqlen_k;
  }
  p.q = operand_of(q, "q", p.varlen);
  p.k = operand_of(k, "k", p.varlen);
  p.v = operand_of(v, "v", p.varlen);
  if (with_outputs) p.out = check_like(be, out, "out", q, "q", p.varlen, p.head_dim_v);
  use_ragged_unless_aligned(p, {{&p.q, "q"}, {&p.k, "k"}, {&p.v, "v"}});
  if (with_outputs) use_ragged_unless_aligned(p, {{&p.out, "out"}});

  if (with_outputs) check_defined(be, lse, "softmax_lse");
  std::vector<int64_t> lse_shape = p.varlen ? std::vector<int64_t>{p.nheads, p.total_q}
                                            : std::vector<int64_t>{p.batch, p.nheads, p.seqlen_q};
  if (with_outputs && lse.dtype != DType::f32) bad("softmax_lse", "float32", dtype_name(lse.dtype));
  if (with_outputs && (lse.sizes() != lse_shape || !lse.is_contiguous()))
    bad("softmax_lse", "a contiguous tensor of shape " + dims_str(lse_shape), lse.shape_str() + (lse.is_contiguous() ? "" : " (strided)"));
  p.lse = lse;

  // Any finite scale, like flash-attn: 0 gives uniform weights over the visible keys.
  p.softmax_scale = o.softmax_scale ? *o.softmax_scale : 1.0 / std::sqrt(double(p.head_dim));
  if (!std::isfinite(p.softmax_scale)) bad("softmax_scale", "a finite number", std::to_string(p.softmax_scale));
  if (!(o.softcap >= 0) || !std::isfinite(o.softcap)) bad("softcap", "a finite number >= 0", std::to_string(o.softcap));
  p.softcap = o.softcap;
  if (o.window_left < -1) bad("window_size", "left >= -1", std::to_string(o.window_left));
  if (o.window_right < -1) bad("window_size", "right >= -1", std::to_string(o.window_right));
  p.window_left = o.window_left;
  p.window_right = o.causal ? 0 : o.window_right;  // flash-attn: causal is window (left, 0)
  p.deterministic = o.deterministic;

  resolve_variant(be, p, o);
  if (o.block_mask) check_block_mask(be, p, *o.block_mask);
  if (!with_outputs) return p;
  std::vector<NamedView> inputs = {{q, "q"}, {k, "k"}, {v, "v"}, {p.cu_seqlens_q, "cu_seqlens_q"}, {p.cu_seqlens_k, "cu_seqlens_k"}};
  for (const NamedView& t : variant_tensors(p)) inputs.push_back(t);
  check_output_overlap(out, "out", inputs);
  inputs.push_back({out, "out"});
  check_output_overlap(lse, "softmax_lse", inputs);
  return p;
}

void check_output_overlap(const TensorView& output, const char* name, const std::vector<NamedView>& others) {
  if (view_overlaps_itself(output))
    bad(name, "a view whose elements do not overlap each other", "shape " + output.shape_str() + " with strides " +
                                                                     dims_str({output.strides.begin(), output.strides.begin() + output.rank}));
  for (const NamedView& o : others)
    if (o.view.defined() && views_overlap(output, o.view))
      bad(name, std::string("memory not shared with ") + o.name + " (an output may not overlap an input or another output)",
          "overlapping views");
}

}  // namespace tile::attention
