// Ulysses and USP, forward and backward (usp_attention.h).
#include "distributed/qkv_packing.h"
#include "distributed/usp_attention.h"

#include <stdexcept>
#include <string>

#include "distributed/dist_variant_args.h"
#include "distributed/ring_inputs.h"
#include "distributed/ulysses_exchange.h"
#include "distributed/variant_grad_sum.h"

namespace tile {
namespace dist {
namespace {

struct UspShape {
  RingShape ring;
  HeadSplit q_heads, kv_heads;
  DistVariant variant;  // options.variant, checked against the global problem
};

// q/k/v as the ring checks them (shapes, dtypes, memory), then the head split over the group;
// with a ring across (ring_degree > 1) the ring's own check of the options, before anything moves.
UspShape check_usp_inputs(RingMode ring_split, Transport& ulysses, int ring_degree, AttentionStepBackend& backend,
                          const TensorView& q, const TensorView& k, const TensorView& v, const RingAttnOptions& options) {
  RingAttnOptions tensors_only;
  tensors_only.softmax_scale = options.softmax_scale;
  UspShape s;
  s.ring = check_ring_inputs(RingMode::ring, RankContext{ulysses, backend}, q, k, v,
                             ring_degree > 1 ? options : tensors_only);
  const int degree = ulysses.world_size();
  if (s.ring.nheads_q % degree != 0)
    throw std::invalid_argument("q: nheads (" + std::to_string(s.ring.nheads_q) +
                                ") must be a multiple of the Ulysses degree (" + std::to_string(degree) + ")");
  s.q_heads = {s.ring.nheads_q, degree};
  s.kv_heads = {s.ring.nheads_k, degree};
  if (!s.kv_heads.valid())
    throw std::invalid_argument("k: nheads_k (" + std::to_string(s.ring.nheads_k) + ") and the Ulysses degree (" +
                                std::to_string(degree) +
                                ") must divide one another (k/v heads are split, or replicated when fewer)");
  if (ring_degree > 1 && ring_split == RingMode::zigzag && (s.ring.seq * degree) % 2 != 0)
    throw std::invalid_argument("q: zigzag across the ring needs an even ring shard (seqlen " +
                                std::to_string(s.ring.seq) + " x Ulysses degree " + std::to_string(degree) + ")");
  const TensorView& alibi = options.alibi_slopes;
  if (alibi.defined() && (alibi.rank < 1 || alibi.size(alibi.rank - 1) != s.ring.nheads_q))
    throw std::invalid_argument("alibi_slopes: expected (nheads " + std::to_string(s.ring.nheads_q) +
                                ") or (batch, nheads), got " + describe(alibi));
  attention::ProblemDims global;
  global.batch = s.ring.batch;
  global.nheads = s.ring.nheads_q;
  global.nheads_k = s.ring.nheads_k;
  global.seqlen_q = global.seqlen_k = s.ring.seq * degree * ring_degree;
  s.variant = check_dist_variant(options, global, backend.ops().device());
  return s;
}

// The variants for this rank's heads.
StepVariant step_variant(const RingAttnOptions& o, const UspShape& s, int rank) {
  StepVariant v;
  v.window_left = o.window_left;
  v.window_right = o.window_right;
  v.softcap = o.softcap;
  if (o.alibi_slopes.defined())
    v.alibi_slopes = slice(o.alibi_slopes, o.alibi_slopes.rank - 1, s.q_heads.first(rank), s.q_heads.per_rank());
  v.registered = o.variant;
  if (s.variant.defined()) v.args = args_for_heads(s.variant, o.variant_args, s.q_heads, s.kv_heads, rank);
  return v;
}

// The options of the ring across the groups: this rank's heads' share of the variant arguments.
RingAttnOptions ring_options(const RingAttnOptions& o, const StepVariant& heads) {
  RingAttnOptions r = o;
  r.variant_args = heads.args;
  return r;
}

// The head-sharded tensors of one rank: the group's sequence, this rank's heads.
struct HeadShards {
  DeviceTensor q, k, v;
};

HeadShards scatter_qkv(Transport& ulysses, TensorOps& ops, const UspShape& s, const TensorView& q, const TensorView& k,
                       const TensorView& v) {
  return {scatter_heads(ulysses, ops, q, 1, 2, s.q_heads), scatter_heads(ulysses, ops, k, 1, 2, s.kv_heads),
          scatter_heads(ulysses, ops, v, 1, 2, s.kv_heads)};
}

RingForwardResult forward(RingMode ring_split, Transport& ulysses, Transport* ring, AttentionStepBackend& backend,
                          const TensorView& q, const TensorView& k, const TensorView& v, const RingAttnOptions& o) {
  const UspShape s = check_usp_inputs(ring_split, ulysses, ring ? ring->world_size() : 1, backend, q, k, v, o);
  TensorOps& ops = backend.ops();
  const HeadShards h = scatter_qkv(ulysses, ops, s, q, k, v);
  DeviceTensor out, lse;
  if (ring == nullptr || ring->world_size() == 1) {
    // The whole sequence is here: one call of the single-device attention, variants included.
    const std::vector<int64_t> q_shape = h.q.view.sizes();
    DeviceTensor partial = ops.empty(backend.partial_dtype(s.ring.dtype), q_shape);
    lse = ops.empty(DType::f32, {q_shape[0], q_shape[2], q_shape[1]});
    StepForwardArgs a;
    a.q = h.q.view;
    a.k = h.k.view;
    a.v = h.v.view;
    a.causal = o.causal;
    a.variant = step_variant(o, s, ulysses.rank());
    a.softmax_scale = s.ring.scale;
    a.out = partial.view;
    a.lse = lse.view;
    backend.forward(a);
    out = partial;
  } else {
    RingForwardResult r = ring_attention_forward(ring_split, RankContext{*ring, backend}, h.q.view, h.k.view, h.v.view,
                                                 ring_options(o, step_variant(o, s, ulysses.rank())));
    out = r.out;
    lse = r.lse;
  }
  RingForwardResult result;
  result.out = gather_heads(ulysses, ops, out.view, 1, 2, s.q_heads, s.ring.dtype);
  result.lse = gather_heads(ulysses, ops, lse.view, 2, 1, s.q_heads, DType::f32);
  return result;
}

RingGradients backward(RingMode ring_split, Transport& ulysses, Transport* ring, AttentionStepBackend& backend,
                       const TensorView& dout, const TensorView& q, const TensorView& k, const TensorView& v,
                       const TensorView& out, const TensorView& lse, const RingAttnOptions& o) {
  const UspShape s = check_usp_inputs(ring_split, ulysses, ring ? ring->world_size() : 1, backend, q, k, v, o);
  check_same_shape(dout, q, "dout");
  check_same_shape(out, q, "out");
  if (lse.rank != 3 || lse.size(0) != s.ring.batch || lse.size(1) != s.ring.nheads_q || lse.size(2) != s.ring.seq ||
      lse.dtype != DType::f32)
    throw std::invalid_argument("lse: expected f32 (" + std::to_string(s.ring.batch) + ", " +
                                std::to_string(s.ring.nheads_q) + ", " + std::to_string(s.ring.seq) + "), got " +
                                describe(lse));
  TensorOps& ops = backend.ops();
  const HeadShards h = scatter_qkv(ulysses, ops, s, q, k, v);
  const DeviceTensor dout_h = scatter_heads(ulysses, ops, dout, 1, 2, s.q_heads);
  const DeviceTensor out_h = scatter_heads(ulysses, ops, out, 1, 2, s.q_heads);
  const DeviceTensor lse_h = scatter_heads(ulysses, ops, lse, 2, 1, s.q_heads);
  DeviceTensor dq, dk, dv;
  const StepVariant heads_variant = step_variant(o, s, ulysses.rank());
  std::map<std::string, DeviceTensor> arg_grads;  // this rank's heads' share, trainable arguments
  if (ring == nullptr || ring->world_size() == 1) {
    const DType partial = backend.partial_dtype(s.ring.dtype);
    dq = ops.empty(partial, h.q.view.sizes());
    dk = ops.empty(partial, h.k.view.sizes());
    dv = ops.empty(partial, h.v.view.sizes());
    StepBackwardArgs a;
    a.dout = dout_h.view;
    a.q = h.q.view;
    a.k = h.k.view;
    a.v = h.v.view;
    a.out = out_h.view;
    a.lse = lse_h.view;
    a.causal = o.causal;
    a.variant = heads_variant;
    a.softmax_scale = s.ring.scale;
    a.dq = dq.view;
    a.dk = dk.view;
    a.dv = dv.view;
    ArgGradSum step_grads(ops, o.variant, heads_variant.args);
    a.variant_grads = step_grads.step_views();
    backend.backward(a);
    step_grads.add_step(ops);
    arg_grads = step_grads.sums();
  } else {
    // fp32 gradients: gather_heads rounds them once, after summing replicated k/v heads.
    RingGradients g = ring_backward_as(ring_split, RankContext{*ring, backend}, dout_h.view, h.q.view, h.k.view,
                                       h.v.view, out_h.view, lse_h.view, ring_options(o, heads_variant), DType::f32);
    dq = g.dq;
    dk = g.dk;
    dv = g.dv;
    arg_grads = g.variant_grads;  // summed over the ring's steps and ranks: this rank's heads
  }
  RingGradients g;
  g.dq = gather_heads(ulysses, ops, dq.view, 1, 2, s.q_heads, s.ring.dtype);
  g.dk = gather_heads(ulysses, ops, dk.view, 1, 2, s.kv_heads, s.ring.dtype);
  g.dv = gather_heads(ulysses, ops, dv.view, 1, 2, s.kv_heads, s.ring.dtype);
  if (s.variant.defined())
    g.variant_grads = gather_arg_grads(ulysses, ops, s.variant, o.variant_args, arg_grads, s.q_heads, s.kv_heads);
  return g;
}

}  // namespace

UspGroups make_usp_groups(Transport& world, int ulysses_degree) {
  const int w = world.world_size();
  if (ulysses_degree < 1 || w % ulysses_degree != 0)
    throw std::invalid_argument("ulysses_degree: expected a divisor of the world size " + std::to_string(w) + ", got " +
                                std::to_string(ulysses_degree));
  const int rank = world.rank();
  UspGroups g;
  g.ulysses = world.split(rank / ulysses_degree, rank);
  g.ring = world.split(rank % ulysses_degree, rank);
  return g;
}

RingForwardResult usp_attention_forward(RingMode ring_split, UspContext ctx, const TensorView& q, const TensorView& k,
                                        const TensorView& v, const RingAttnOptions& options) {
  return forward(ring_split, ctx.ulysses, &ctx.ring, ctx.backend, q, k, v, options);
}

RingGradients usp_attention_backward(RingMode ring_split, UspContext ctx, const TensorView& dout, const TensorView& q,
                                     const TensorView& k, const TensorView& v, const TensorView& out,
                                     const TensorView& lse, const RingAttnOptions& options) {
  return backward(ring_split, ctx.ulysses, &ctx.ring, ctx.backend, dout, q, k, v, out, lse, options);
}

RingForwardResult usp_attention_qkvpacked_forward(RingMode ring_split, UspContext ctx, const TensorView& qkv,
                                                  const RingAttnOptions& options) {
  const auto p = unpack_qkv(qkv);
  return usp_attention_forward(ring_split, ctx, p[0], p[1], p[2], options);
}

DeviceTensor usp_attention_qkvpacked_backward(RingMode ring_split, UspContext ctx, const TensorView& dout,
                                              const TensorView& qkv, const TensorView& out, const TensorView& lse,
                                              const RingAttnOptions& options) {
  const auto p = unpack_qkv(qkv);
  RingGradients g = usp_attention_backward(ring_split, ctx, dout, p[0], p[1], p[2], out, lse, options);
  return pack_qkv_gradients(ctx.backend.ops(), qkv, g);
}

RingForwardResult ulysses_attention_forward(RankContext ctx, const TensorView& q, const TensorView& k,
                                            const TensorView& v, const RingAttnOptions& options) {
  return forward(RingMode::ring, ctx.transport, nullptr, ctx.backend, q, k, v, options);
}

RingGradients ulysses_attention_backward(RankContext ctx, const TensorView& dout, const TensorView& q,
                                         const TensorView& k, const TensorView& v, const TensorView& out,
                                         const TensorView& lse, const RingAttnOptions& options) {
  return backward(RingMode::ring, ctx.transport, nullptr, ctx.backend, dout, q, k, v, out, lse, options);
}

}  // namespace dist
}  // namespace tile
