// The ring backward pass (ring_attention.h).
#include <memory>
#include <stdexcept>

#include "distributed/cpu_tensor_ops.h"
#include "distributed/ring_attention.h"
#include "distributed/ring_exchange.h"
#include "distributed/ring_inputs.h"
#include "distributed/variant_grad_sum.h"

namespace tile {
namespace dist {

RingGradients ring_attention_backward(RingMode mode, RankContext ctx, const TensorView& dout, const TensorView& q,
                                      const TensorView& k, const TensorView& v, const TensorView& out,
                                      const TensorView& lse, const RingAttnOptions& options) {
  return ring_backward_as(mode, ctx, dout, q, k, v, out, lse, options, q.dtype);
}

RingGradients ring_backward_as(RingMode mode, RankContext ctx, const TensorView& dout, const TensorView& q,
                               const TensorView& k, const TensorView& v, const TensorView& out, const TensorView& lse,
                               const RingAttnOptions& options, DType grad_dtype) {
  const RingShape s = check_ring_inputs(mode, ctx, q, k, v, options);
  check_same_shape(dout, q, "dout");
  check_same_shape(out, q, "out");
  if (lse.rank != 3 || lse.size(0) != s.batch || lse.size(1) != s.nheads_q || lse.size(2) != s.seq ||
      lse.dtype != DType::f32)
    throw std::invalid_argument("lse: expected f32 (" + std::to_string(s.batch) + ", " + std::to_string(s.nheads_q) +
                                ", " + std::to_string(s.seq) + "), got " + describe(lse));
  TensorOps& ops = ctx.backend.ops();
  const int world = ctx.transport.world_size(), rank = ctx.transport.rank();
  const DType partial = ctx.backend.partial_dtype(s.dtype);
  const std::vector<int64_t> q_shape = q.sizes(), kv_shape = k.sizes();

  DeviceTensor k_buf[2] = {ops.empty(s.dtype, kv_shape), ops.empty(s.dtype, kv_shape)};
  DeviceTensor v_buf[2] = {ops.empty(s.dtype, kv_shape), ops.empty(s.dtype, kv_shape)};
  ops.copy(k_buf[0].view, k);
  ops.copy(v_buf[0].view, v);
  // dK/dV accumulators of the visiting block: one is added to and sent, the other receives.
  DeviceTensor dk_buf[2] = {ops.zeros(DType::f32, kv_shape), ops.empty(DType::f32, kv_shape)};
  DeviceTensor dv_buf[2] = {ops.zeros(DType::f32, kv_shape), ops.empty(DType::f32, kv_shape)};
  DeviceTensor dq_acc = ops.zeros(DType::f32, q_shape);
  DeviceTensor block_dq = ops.empty(partial, q_shape);
  DeviceTensor block_dk = ops.empty(partial, kv_shape);
  DeviceTensor block_dv = ops.empty(partial, kv_shape);
  // Trainable variant arguments: each step's gradient covers its own (query, key) pairs.
  ArgGradSum arg_grads(ops, options.variant, options.variant_args);

  int cur = 0, dcur = 0;
  std::unique_ptr<CommRequest> next_dkv;
  for (int step = 0; step < world; ++step) {
    std::unique_ptr<CommRequest> next_kv;
    if (step + 1 < world)
      next_kv = post_ring_exchange(ctx.transport, {k_buf[cur].view, v_buf[cur].view},
                                   {k_buf[1 - cur].view, v_buf[1 - cur].view}, step + 1);
    const StepPlan plan = plan_ring_step(mode, options.causal, rank, step, world);
    if (plan.compute && step_has_rows(plan, s.seq)) {
      StepBackwardArgs a;
      a.dout = shard_part(dout, 1, plan.q_part);
      a.q = shard_part(q, 1, plan.q_part);
      a.k = shard_part(k_buf[cur].view, 1, plan.kv_part);
      a.v = shard_part(v_buf[cur].view, 1, plan.kv_part);
      a.out = shard_part(out, 1, plan.q_part);
      a.lse = shard_part(lse, 2, plan.q_part);
      a.causal = plan.causal;
      a.variant.softcap = options.softcap;  // a per-score map: the same in every block
      a.variant.registered = options.variant;  // reads no positions (check_ring_inputs)
      a.variant.args = options.variant_args;
      a.softmax_scale = s.scale;
      a.dq = shard_part(block_dq.view, 1, plan.q_part);
      a.dk = shard_part(block_dk.view, 1, plan.kv_part);
      a.dv = shard_part(block_dv.view, 1, plan.kv_part);
      a.step = step;
      a.variant_grads = arg_grads.step_views();
      ctx.backend.backward(a);
      arg_grads.add_step(ops);
      ops.accumulate(shard_part(dq_acc.view, 1, plan.q_part), a.dq);
    }
    // The visiting block's dK/dV so far arrive from the previous rank (step 0: the block is ours
    // and its accumulator starts at zero).
    if (next_dkv) {
      next_dkv->wait();
      dcur = 1 - dcur;
    }
    if (plan.compute && step_has_rows(plan, s.seq)) {
      ops.accumulate(shard_part(dk_buf[dcur].view, 1, plan.kv_part), shard_part(block_dk.view, 1, plan.kv_part));
      ops.accumulate(shard_part(dv_buf[dcur].view, 1, plan.kv_part), shard_part(block_dv.view, 1, plan.kv_part));
    }
    if (next_kv) {
      next_kv->wait();
      cur = 1 - cur;
    }
    // After the last step this hop brings every block's dK/dV home (W hops in all).
    next_dkv = post_ring_exchange(ctx.transport, {dk_buf[dcur].view, dv_buf[dcur].view},
                                  {dk_buf[1 - dcur].view, dv_buf[1 - dcur].view}, step + 1);
  }
  next_dkv->wait();
  dcur = 1 - dcur;

  RingGradients g;
  // This rank's queries against every key; the ring's ranks hold the other queries.
  for (const auto& [name, sum] : arg_grads.sums()) g.variant_grads[name] = sum_over_group(ctx.transport, ops, sum.view);
  if (grad_dtype == DType::f32) {  // the accumulators themselves
    g.dq = dq_acc;
    g.dk = dk_buf[dcur];
    g.dv = dv_buf[dcur];
    return g;
  }
  g.dq = ops.empty(grad_dtype, q_shape);
  g.dk = ops.empty(grad_dtype, kv_shape);
  g.dv = ops.empty(grad_dtype, kv_shape);
  ops.copy(g.dq.view, dq_acc.view);
  ops.copy(g.dk.view, dk_buf[dcur].view);
  ops.copy(g.dv.view, dv_buf[dcur].view);
  return g;
}

}  // namespace dist
}  // namespace tile
