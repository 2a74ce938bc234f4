// Varlen Ulysses (usp_attention.h): the batched path's all-to-alls on the token dim of
// (total, h, d) tensors and the head dim of (h, total) LSEs, around one varlen step.
#include <cmath>
#include <stdexcept>
#include <string>

#include "distributed/dist_variant_args.h"
#include "distributed/ulysses_exchange.h"
#include "distributed/usp_attention.h"
#include "distributed/variant_grad_sum.h"

namespace tile {
namespace dist {
namespace {

struct VarlenShape {
  int64_t tokens = 0, nheads_q = 0, nheads_k = 0, head_size = 0;
  DType dtype = DType::bf16;
  double scale = 1.0;
  HeadSplit q_heads, kv_heads;
  DistVariant variant;  // options.variant, checked against the global packed problem
};

void expect(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

VarlenShape check_varlen_inputs(RankContext ctx, const TensorView& q, const TensorView& k, const TensorView& v,
                                const VarlenSequences& seqs, const RingAttnOptions& o) {
  const Device dev = ctx.backend.ops().device();
  const char* names[] = {"q", "k", "v"};
  const TensorView* views[] = {&q, &k, &v};
  for (int i = 0; i < 3; ++i) {
    const TensorView& t = *views[i];
    expect(t.defined() && t.rank == 3,
           std::string(names[i]) + ": expected (total_tokens, nheads, head_size), got " + (t.defined() ? describe(t) : "none"));
    expect(is_float(t.dtype) && t.dtype == q.dtype, std::string(names[i]) + ": expected q's float dtype, got " + describe(t));
    expect(t.device == dev, std::string(names[i]) + ": expected memory on " + dev.str() + ", got " + t.device.str());
  }
  expect(k.sizes() == v.sizes(), "v: expected k's shape " + k.shape_str() + ", got " + v.shape_str());
  expect(k.size(0) == q.size(0) && k.size(2) == q.size(2),
         "k: expected q's tokens and head_size, got " + k.shape_str() + " for q " + q.shape_str());
  const TensorView& cu = seqs.cu_seqlens;
  expect(cu.defined() && cu.rank == 1 && cu.dtype == DType::i32 && cu.size(0) >= 2 && cu.device == dev,
         "cu_seqlens: expected int32 (batch + 1) on " + dev.str() + ", got " + (cu.defined() ? describe(cu) : "none"));
  expect(seqs.max_seqlen > 0, "max_seqlen: expected > 0, got " + std::to_string(seqs.max_seqlen));
  expect(o.alibi_slopes.defined() ? o.alibi_slopes.rank == 1 : true,
         "alibi_slopes: varlen Ulysses takes (nheads) slopes, got " +
             (o.alibi_slopes.defined() ? describe(o.alibi_slopes) : std::string()));
  VarlenShape s;
  s.tokens = q.size(0);
  s.nheads_q = q.size(1);
  s.nheads_k = k.size(1);
  s.head_size = q.size(2);
  s.dtype = q.dtype;
  s.scale = o.softmax_scale.value_or(1.0 / std::sqrt(static_cast<double>(s.head_size)));
  const int degree = ctx.transport.world_size();
  expect(s.nheads_k > 0 && s.nheads_q % s.nheads_k == 0, "k: nheads_q (" + std::to_string(s.nheads_q) +
                                                             ") must be a multiple of nheads_k (" +
                                                             std::to_string(s.nheads_k) + ")");
  expect(s.nheads_q % degree == 0, "q: nheads (" + std::to_string(s.nheads_q) +
                                       ") must be a multiple of the Ulysses degree (" + std::to_string(degree) + ")");
  s.q_heads = {s.nheads_q, degree};
  s.kv_heads = {s.nheads_k, degree};
  expect(s.kv_heads.valid(), "k: nheads_k (" + std::to_string(s.nheads_k) + ") and the Ulysses degree (" +
                                 std::to_string(degree) + ") must divide one another");
  // The variant's per-token arguments index the packed tokens of every rank (total_q/total_k);
  // per-sequence ones the batch of cu_seqlens.
  attention::ProblemDims global;
  global.varlen = true;
  global.batch = cu.size(0) - 1;
  global.nheads = s.nheads_q;
  global.nheads_k = s.nheads_k;
  global.seqlen_q = global.seqlen_k = seqs.max_seqlen;
  global.total_q = global.total_k = s.tokens * degree;
  s.variant = check_dist_variant(o, global, dev);
  return s;
}

StepVarlen step_varlen(const VarlenSequences& seqs) {
  StepVarlen v;
  v.cu_seqlens_q = v.cu_seqlens_k = seqs.cu_seqlens;
  v.max_seqlen_q = v.max_seqlen_k = seqs.max_seqlen;
  return v;
}

StepVariant step_variant(const RingAttnOptions& o, const VarlenShape& s, int rank) {
  StepVariant v;
  v.window_left = o.window_left;
  v.window_right = o.window_right;
  v.softcap = o.softcap;
  if (o.alibi_slopes.defined()) v.alibi_slopes = slice(o.alibi_slopes, 0, s.q_heads.first(rank), s.q_heads.per_rank());
  v.registered = o.variant;
  if (s.variant.defined()) v.args = args_for_heads(s.variant, o.variant_args, s.q_heads, s.kv_heads, rank);
  return v;
}

}  // namespace

RingForwardResult ulysses_attention_varlen_forward(RankContext ctx, const TensorView& q, const TensorView& k,
                                                   const TensorView& v, const VarlenSequences& seqs,
                                                   const RingAttnOptions& o) {
  const VarlenShape s = check_varlen_inputs(ctx, q, k, v, seqs, o);
  Transport& group = ctx.transport;
  TensorOps& ops = ctx.backend.ops();
  const DeviceTensor qh = scatter_heads(group, ops, q, 0, 1, s.q_heads);
  const DeviceTensor kh = scatter_heads(group, ops, k, 0, 1, s.kv_heads);
  const DeviceTensor vh = scatter_heads(group, ops, v, 0, 1, s.kv_heads);
  const std::vector<int64_t> q_shape = qh.view.sizes();
  DeviceTensor out = ops.empty(ctx.backend.partial_dtype(s.dtype), q_shape);
  DeviceTensor lse = ops.empty(DType::f32, {q_shape[1], q_shape[0]});
  StepForwardArgs a;
  a.q = qh.view;
  a.k = kh.view;
  a.v = vh.view;
  a.causal = o.causal;
  a.variant = step_variant(o, s, group.rank());
  a.softmax_scale = s.scale;
  a.out = out.view;
  a.lse = lse.view;
  a.varlen = step_varlen(seqs);
  ctx.backend.forward(a);
  RingForwardResult r;
  r.out = gather_heads(group, ops, out.view, 0, 1, s.q_heads, s.dtype);
  r.lse = gather_heads(group, ops, lse.view, 1, 0, s.q_heads, DType::f32);
  return r;
}

RingGradients ulysses_attention_varlen_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                                const TensorView& k, const TensorView& v, const TensorView& out,
                                                const TensorView& lse, const VarlenSequences& seqs,
                                                const RingAttnOptions& o) {
  const VarlenShape s = check_varlen_inputs(ctx, q, k, v, seqs, o);
  check_same_shape(dout, q, "dout");
  check_same_shape(out, q, "out");
  expect(lse.rank == 2 && lse.size(0) == s.nheads_q && lse.size(1) == s.tokens && lse.dtype == DType::f32,
         "lse: expected f32 (" + std::to_string(s.nheads_q) + ", " + std::to_string(s.tokens) + "), got " + describe(lse));
  Transport& group = ctx.transport;
  TensorOps& ops = ctx.backend.ops();
  const DeviceTensor qh = scatter_heads(group, ops, q, 0, 1, s.q_heads);
  const DeviceTensor kh = scatter_heads(group, ops, k, 0, 1, s.kv_heads);
  const DeviceTensor vh = scatter_heads(group, ops, v, 0, 1, s.kv_heads);
  const DeviceTensor douth = scatter_heads(group, ops, dout, 0, 1, s.q_heads);
  const DeviceTensor outh = scatter_heads(group, ops, out, 0, 1, s.q_heads);
  const DeviceTensor lseh = scatter_heads(group, ops, lse, 1, 0, s.q_heads);
  const DType partial = ctx.backend.partial_dtype(s.dtype);
  DeviceTensor dq = ops.empty(partial, qh.view.sizes()), dk = ops.empty(partial, kh.view.sizes()),
               dv = ops.empty(partial, vh.view.sizes());
  StepBackwardArgs a;
  a.dout = douth.view;
  a.q = qh.view;
  a.k = kh.view;
  a.v = vh.view;
  a.out = outh.view;
  a.lse = lseh.view;
  a.causal = o.causal;
  a.variant = step_variant(o, s, group.rank());
  a.softmax_scale = s.scale;
  a.dq = dq.view;
  a.dk = dk.view;
  a.dv = dv.view;
  a.varlen = step_varlen(seqs);
  ArgGradSum arg_grads(ops, o.variant, a.variant.args);
  a.variant_grads = arg_grads.step_views();
  ctx.backend.backward(a);
  arg_grads.add_step(ops);
  RingGradients g;
  g.dq = gather_heads(group, ops, dq.view, 0, 1, s.q_heads, s.dtype);
  g.dk = gather_heads(group, ops, dk.view, 0, 1, s.kv_heads, s.dtype);
  g.dv = gather_heads(group, ops, dv.view, 0, 1, s.kv_heads, s.dtype);
  if (s.variant.defined())
    g.variant_grads = gather_arg_grads(group, ops, s.variant, o.variant_args, arg_grads.sums(), s.q_heads, s.kv_heads);
  return g;
}

}  // namespace dist
}  // namespace tile
