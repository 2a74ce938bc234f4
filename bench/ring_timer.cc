#include "bench/ring_timer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "bench/random_fill.h"
#include "distributed/gpu_step_backend.h"
#include "distributed/ring_attention.h"
#include "distributed/usp_attention.h"
#include "dsl/runtime/memory.h"

namespace tile::bench {
namespace {

double used_mb() {
  size_t free_b = 0, total_b = 0;
  rt::device_memory_info(&free_b, &total_b);
  return double(total_b - free_b) / (1 << 20);
}

dist::DeviceTensor random_tensor(dist::TensorOps& ops, ElemType type, const std::vector<int64_t>& shape,
                                 uint64_t seed) {
  const DType dt = type == ElemType::bf16 ? DType::bf16 : DType::f16;
  HostTensor host(dt, shape);
  fill_uniform(static_cast<uint16_t*>(host.data()), size_t(host.numel()), type, seed);
  dist::DeviceTensor t = ops.empty(dt, shape);
  ops.upload(t.view, host.view());
  return t;
}

}  // namespace

std::vector<KernelSpan> kernel_spans(const std::vector<dist::TimelineSpan>& spans) {
  std::vector<KernelSpan> out;
  for (const dist::TimelineSpan& t : spans) {
    KernelSpan k;
    k.name = t.name;
    k.instance = t.detail;
    k.start_us = t.start_us;
    k.duration_us = t.duration_us;
    for (int i = 0; i < 3; ++i) k.grid[i] = t.grid[size_t(i)];
    k.rank = t.rank;
    k.stream = t.stream;
    k.comm = t.comm;
    k.step = t.step;
    out.push_back(k);
  }
  return out;
}

CaseRun time_ring(const std::shared_ptr<dist::GpuRank>& gpu, const dist::SequenceLayout& layout,
                  dist::Transport& transport, const BenchCase& c, const RunOptions& options, bool starts_timeline) {
  if (options.profile && !gpu->timeline())
    throw std::invalid_argument("time_ring: profiling needs the GpuRank made with a StreamTimeline");
  const dist::RingMode mode = layout.ring_split;
  const int world = transport.world_size();
  std::unique_ptr<dist::AttentionStepBackend> step_backend = dist::make_gpu_step_backend(gpu);
  dist::AttentionStepBackend& step = *step_backend;
  dist::TensorOps& ops = step.ops();
  dist::RankContext ctx{transport, step};
  const bool usp = layout.ulysses_degree > 1;
  dist::UspGroups groups;
  if (usp) groups = dist::make_usp_groups(transport, layout.ulysses_degree);
  dist::RingAttnOptions ro;
  ro.causal = c.causal;

  gpu->synchronize();
  const double used_before = used_mb();
  const int64_t B = c.batch_size, S = c.seq_len / world, H = c.nheads, Hk = c.nheads_k, D = c.head_size;
  const uint64_t seed = options.seed * 1000 + uint64_t(transport.rank());
  const bool packed = c.func != AttnFunc::func;
  dist::DeviceTensor qkv, q, k, v;
  if (packed) {
    qkv = random_tensor(ops, c.dtype, {B, S, 3, H, D}, seed);
  } else {
    q = random_tensor(ops, c.dtype, {B, S, H, D}, seed);
    k = random_tensor(ops, c.dtype, {B, S, Hk, D}, seed + 1);
    v = random_tensor(ops, c.dtype, {B, S, Hk, D}, seed + 2);
  }
  dist::DeviceTensor dout = random_tensor(ops, c.dtype, {B, S, H, D}, seed + 3);

  double peak = 0;
  auto iteration = [&] {
    if (packed) {
      dist::RingForwardResult f;
      dist::DeviceTensor g;
      if (usp) {
        const dist::UspContext u{*groups.ulysses, *groups.ring, step};
        f = dist::usp_attention_qkvpacked_forward(mode, u, qkv.view, ro);
        if (!c.fwd_only) g = dist::usp_attention_qkvpacked_backward(mode, u, dout.view, qkv.view, f.out.view, f.lse.view, ro);
      } else {
        f = dist::ring_attention_qkvpacked_forward(mode, ctx, qkv.view, ro);
        if (!c.fwd_only) g = dist::ring_attention_qkvpacked_backward(mode, ctx, dout.view, qkv.view, f.out.view, f.lse.view, ro);
      }
      ops.synchronize();
      peak = std::max(peak, used_mb() - used_before);
    } else {
      dist::RingForwardResult f;
      dist::RingGradients g;
      if (usp) {
        const dist::UspContext u{*groups.ulysses, *groups.ring, step};
        f = dist::usp_attention_forward(mode, u, q.view, k.view, v.view, ro);
        if (!c.fwd_only)
          g = dist::usp_attention_backward(mode, u, dout.view, q.view, k.view, v.view, f.out.view, f.lse.view, ro);
      } else {
        f = dist::ring_attention_forward(mode, ctx, q.view, k.view, v.view, ro);
        if (!c.fwd_only)
          g = dist::ring_attention_backward(mode, ctx, dout.view, q.view, k.view, v.view, f.out.view, f.lse.view, ro);
      }
      ops.synchronize();
      peak = std::max(peak, used_mb() - used_before);
    }
  };

  // At least one warm-up: the first call loads the kernels.
  for (int i = 0; i < std::max(1, options.warmup); ++i) iteration();
  std::vector<double> ms;
  for (int i = 0; i < options.iters; ++i) {
    transport.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    iteration();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  CaseRun run;
  if (options.profile) {
    // Every rank is idle (its iteration ended waiting for its streams) when the origin is taken.
    transport.barrier();
    if (starts_timeline) gpu->timeline()->start(gpu->compute_stream());
    transport.barrier();
    iteration();
    transport.barrier();  // every rank's work is queued (and waited for) before the spans are read
    if (starts_timeline) run.spans = kernel_spans(gpu->timeline()->finish());
  }
  std::sort(ms.begin(), ms.end());
  CaseResult& r = run.result;
  r.c = c;
  r.warmup = options.warmup;
  r.iters = options.iters;
  r.median_ms = ms[ms.size() / 2];
  r.min_ms = ms.front();
  r.max_ms = ms.back();
  r.peak_memory_mb = peak;
  r.device_used_mb = peak;
  return run;
}

}  // namespace tile::bench
