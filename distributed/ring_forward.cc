// The ring forward pass (ring_attention.h).
#include <limits>
#include <memory>

#include "distributed/ring_attention.h"
#include "distributed/ring_exchange.h"
#include "distributed/ring_inputs.h"

namespace tile {
namespace dist {

RingForwardResult ring_attention_forward(RingMode mode, RankContext ctx, const TensorView& q, const TensorView& k,
                                         const TensorView& v, const RingAttnOptions& options) {
  const RingShape s = check_ring_inputs(mode, ctx, q, k, v, options);
  TensorOps& ops = ctx.backend.ops();
  const int world = ctx.transport.world_size(), rank = ctx.transport.rank();
  const DType partial = ctx.backend.partial_dtype(s.dtype);
  const std::vector<int64_t> q_shape = q.sizes(), kv_shape = k.sizes(), lse_shape = {s.batch, s.nheads_q, s.seq};

  // Two buffers per K and V: the block being computed on and the one arriving.
  DeviceTensor k_buf[2] = {ops.empty(s.dtype, kv_shape), ops.empty(s.dtype, kv_shape)};
  DeviceTensor v_buf[2] = {ops.empty(s.dtype, kv_shape), ops.empty(s.dtype, kv_shape)};
  ops.copy(k_buf[0].view, k);
  ops.copy(v_buf[0].view, v);

  DeviceTensor out_acc = ops.zeros(DType::f32, q_shape);
  DeviceTensor lse_acc = ops.empty(DType::f32, lse_shape);
  ops.fill(lse_acc.view, -std::numeric_limits<double>::infinity());  // nothing merged yet
  DeviceTensor block_out = ops.empty(partial, q_shape);
  DeviceTensor block_lse = ops.empty(DType::f32, lse_shape);

  int cur = 0;
  for (int step = 0; step < world; ++step) {
    std::unique_ptr<CommRequest> next_kv;
    if (step + 1 < world)
      next_kv = post_ring_exchange(ctx.transport, {k_buf[cur].view, v_buf[cur].view},
                                   {k_buf[1 - cur].view, v_buf[1 - cur].view}, step + 1);
    const StepPlan plan = plan_ring_step(mode, options.causal, rank, step, world);
    if (plan.compute && step_has_rows(plan, s.seq)) {
      StepForwardArgs a;
      a.q = shard_part(q, 1, plan.q_part);
      a.k = shard_part(k_buf[cur].view, 1, plan.kv_part);
      a.v = shard_part(v_buf[cur].view, 1, plan.kv_part);
      a.causal = plan.causal;
      a.variant.softcap = options.softcap;  // a per-score map: the same in every block
      a.variant.registered = options.variant;  // reads no positions (check_ring_inputs)
      a.variant.args = options.variant_args;
      a.softmax_scale = s.scale;
      a.out = shard_part(block_out.view, 1, plan.q_part);
      a.lse = shard_part(block_lse.view, 2, plan.q_part);
      a.step = step;
      ctx.backend.forward(a);
      ops.merge_partial(shard_part(out_acc.view, 1, plan.q_part), shard_part(lse_acc.view, 2, plan.q_part), a.out,
                        a.lse);
    }
    if (next_kv) {
      next_kv->wait();
      cur = 1 - cur;
    }
  }

  RingForwardResult r;
  r.out = ops.empty(s.dtype, q_shape);
  ops.copy(r.out.view, out_acc.view);
  r.lse = lse_acc;
  return r;
}

}  // namespace dist
}  // namespace tile
