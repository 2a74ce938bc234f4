#include "distributed/ring_inputs.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tile {
namespace dist {
namespace {

void expect(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace

RingShape check_ring_inputs(RingMode mode, RankContext ctx, const TensorView& q, const TensorView& k,
                            const TensorView& v, const RingAttnOptions& options) {
  const Device dev = ctx.backend.ops().device();
  const char* names[] = {"q", "k", "v"};
  const TensorView* views[] = {&q, &k, &v};
  for (int i = 0; i < 3; ++i) {
    const TensorView& t = *views[i];
    expect(t.defined(), std::string(names[i]) + ": expected a tensor, got none");
    expect(t.rank == 4, std::string(names[i]) + ": expected (batch, seqlen, nheads, head_size), got " + t.shape_str());
    expect(is_float(t.dtype), std::string(names[i]) + ": expected a float dtype, got " + dtype_name(t.dtype));
    expect(t.device == dev, std::string(names[i]) + ": expected memory on " + dev.str() + " (backend " +
                                ctx.backend.name() + "), got " + t.device.str());
    expect(t.dtype == q.dtype, std::string(names[i]) + ": expected q's dtype " + dtype_name(q.dtype) + ", got " +
                                   dtype_name(t.dtype));
  }
  RingShape s;
  s.batch = q.size(0);
  s.seq = q.size(1);
  s.nheads_q = q.size(2);
  s.head_size = q.size(3);
  s.nheads_k = k.size(2);
  s.dtype = q.dtype;
  expect(k.sizes() == v.sizes(), "v: expected k's shape " + k.shape_str() + ", got " + v.shape_str());
  expect(k.size(0) == s.batch && k.size(1) == s.seq && k.size(3) == s.head_size,
         "k: expected (batch " + std::to_string(s.batch) + ", seqlen " + std::to_string(s.seq) +
             ", nheads_k, head_size " + std::to_string(s.head_size) + ") like q, got " + k.shape_str());
  expect(s.nheads_k > 0 && s.nheads_q % s.nheads_k == 0,
         "k: nheads_q (" + std::to_string(s.nheads_q) + ") must be a multiple of nheads_k (" +
             std::to_string(s.nheads_k) + ")");
  expect(s.seq > 0 && s.head_size > 0, "q: expected a non-empty shard, got " + q.shape_str());
  expect(mode != RingMode::zigzag || s.seq % 2 == 0,
         "q: zigzag needs an even local seqlen (two chunks per rank), got " + std::to_string(s.seq));
  // Softcap maps each score alone, so every block applies it; window and ALiBi depend on global
  // positions, which a step's API call does not know.
  const char* ring_only = " in ring attention (its steps see blocks of keys at unknown positions; use Ulysses)";
  expect(options.window_left < 0 && options.window_right < 0,
         "window_left/window_right: not supported" + std::string(ring_only));
  expect(options.softcap >= 0.0, "softcap: expected >= 0 (0: off), got " + std::to_string(options.softcap));
  expect(!options.alibi_slopes.defined(), "alibi_slopes: not supported" + std::string(ring_only));
  // A registered variant likewise, unless it declares that it reads no positions.
  const attention::VariantChain variant = attention::parse_variant(options.variant, "variant");
  for (const attention::VariantSpec* part : variant.parts)
    expect(!part->reads_positions,
           "variant: '" + part->name + "' reads token positions, not supported" + std::string(ring_only));
  const int world = ctx.transport.world_size();
  expect(world >= 1 && ctx.transport.rank() >= 0 && ctx.transport.rank() < world, "transport: bad rank/world");
  // Its arguments as the API checks them, before anything moves (the steps' calls check again).
  attention::ProblemDims global;
  global.batch = s.batch;
  global.nheads = s.nheads_q;
  global.nheads_k = s.nheads_k;
  global.seqlen_q = global.seqlen_k = s.seq * world;
  attention::check_variant_args(variant, options.variant_args, global, dev);
  s.scale = options.softmax_scale.value_or(1.0 / std::sqrt(static_cast<double>(s.head_size)));
  return s;
}

bool step_has_rows(const StepPlan& plan, int64_t local_seq) {
  auto rows = [&](ShardPart part) {
    switch (part) {
      case ShardPart::all:
        return local_seq;
      case ShardPart::first_half:
        return local_seq / 2;
      case ShardPart::second_half:
        return local_seq - local_seq / 2;
      case ShardPart::all_but_first:
      case ShardPart::all_but_last:
        return local_seq - 1;
    }
    return local_seq;
  };
  return rows(plan.q_part) > 0 && rows(plan.kv_part) > 0;
}

TensorView shard_part(const TensorView& t, int seq_dim, ShardPart part) {
  const int64_t n = t.size(seq_dim);
  switch (part) {
    case ShardPart::all:
      return t;
    case ShardPart::first_half:
      return slice(t, seq_dim, 0, n / 2);
    case ShardPart::second_half:
      return slice(t, seq_dim, n / 2, n - n / 2);
    case ShardPart::all_but_first:
      return slice(t, seq_dim, n > 0 ? 1 : 0, n > 0 ? n - 1 : 0);
    case ShardPart::all_but_last:
      return slice(t, seq_dim, 0, n > 0 ? n - 1 : 0);
  }
  return t;
}

}  // namespace dist
}  // namespace tile
