#include "bench/case_runner.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "attention/host/api.h"
#include "bench/launch_timeline_backend.h"
#include "bench/pooled_memory_backend.h"
#include "bench/random_fill.h"
#include "dsl/core/tensor_view.h"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"

namespace tile::bench {

namespace {

using attention::Backend;

// L2 is 50 MB on the H100; a 256 MiB write evicts whatever the last iteration left there, so
// every timed iteration reads its inputs from HBM (as triton.testing.do_bench does).
constexpr size_t kL2FlushBytes = size_t(256) << 20;

DType dtype_of(ElemType t) { return t == ElemType::bf16 ? DType::bf16 : DType::f16; }

// A device tensor allocated through the (pooled, counting) backend.
class CaseTensor {
 public:
  CaseTensor(Backend& be, DType dtype, std::vector<int64_t> shape) : be_(be) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    bytes_ = size_t(n) * dtype_size(dtype);
    view_ = TensorView::contiguous(be.alloc_zeroed(bytes_), dtype, shape, be.device());
  }
  ~CaseTensor() { be_.free(view_.data); }
  CaseTensor(const CaseTensor&) = delete;
  CaseTensor& operator=(const CaseTensor&) = delete;
  const TensorView& view() const { return view_; }
  size_t bytes() const { return bytes_; }
  CUdeviceptr address() const { return CUdeviceptr(reinterpret_cast<uintptr_t>(view_.data)); }

 private:
  Backend& be_;
  TensorView view_;
  size_t bytes_ = 0;
};

void fill_random(Backend& be, const CaseTensor& t, ElemType type, uint64_t seed) {
  std::vector<uint16_t> host(t.bytes() / 2);
  fill_uniform(host.data(), host.size(), type, seed);
  be.write(t.view().data, host.data(), t.bytes());
}

// All-ones bytes are NaN in bf16, fp16 and f32 alike.
void poison(const CaseTensor& t, rt::Stream& s) {
  TILE_CU_CHECK(cuMemsetD8Async(t.address(), 0xFF, t.bytes(), s.handle()));
}

// Every 16-bit element finite (the inputs are bounded, so a non-finite output means an element
// that was never written or a real overflow; both must fail the case).
void check_written(Backend& be, const CaseTensor& t, const char* what) {
  std::vector<uint16_t> host(t.bytes() / 2);
  be.read(host.data(), t.view().data, t.bytes());
  const uint16_t exp_mask = t.view().dtype == DType::bf16 ? 0x7F80 : 0x7C00;
  size_t bad = size_t(std::count_if(host.begin(), host.end(), [&](uint16_t h) { return (h & exp_mask) == exp_mask; }));
  if (bad)
    throw std::runtime_error(std::string(what) + ": " + std::to_string(bad) + " of " + std::to_string(host.size()) +
                             " elements are NaN/Inf after the run (unwritten or overflowed)");
}

double used_device_mb() {
  size_t free_b = 0, total_b = 0;
  rt::device_memory_info(&free_b, &total_b);
  return double(total_b - free_b) / double(1 << 20);
}

}  // namespace

CaseRun run_case(attention::GpuBackend& gpu, const BenchCase& c, const RunOptions& o) {
  rt::Stream& stream = gpu.stream();
  rt::DeviceBuffer l2_flush(kL2FlushBytes);
  gpu.synchronize();
  // The backend keeps idle workspace between calls: an earlier case's would hide this one's
  // from device_used_mb.
  gpu.release_idle_workspace();
  const double used_before_mb = used_device_mb();

  PooledMemoryBackend pool(gpu, [&](void* p, size_t bytes) {
    TILE_CU_CHECK(cuMemsetD8Async(CUdeviceptr(reinterpret_cast<uintptr_t>(p)), 0, bytes, stream.handle()));
  });
  LaunchTimelineBackend timeline(pool, stream, [](const attention::KernelCall& k) {
    return attention::instance_name(k.kernel, k.params);
  });
  Backend& be = timeline;

  const int64_t B = c.batch_size, S = c.seq_len, H = c.nheads, Hk = c.nheads_k, D = c.head_size, DV = c.dv();
  const DType dt = dtype_of(c.dtype);
  const bool packed = c.func != AttnFunc::func, varlen = c.func == AttnFunc::varlen_qkvpacked;
  // Shapes as flash-attn takes them; varlen folds batch and seqlen into total tokens.
  auto rows = [&](std::vector<int64_t> tail) {
    std::vector<int64_t> s = varlen ? std::vector<int64_t>{B * S} : std::vector<int64_t>{B, S};
    s.insert(s.end(), tail.begin(), tail.end());
    return s;
  };
  std::vector<std::unique_ptr<CaseTensor>> inputs, grads;  // q,k,v or qkv; dq,dk,dv or dqkv
  if (packed) {
    inputs.push_back(std::make_unique<CaseTensor>(be, dt, rows({3, H, D})));
  } else {
    inputs.push_back(std::make_unique<CaseTensor>(be, dt, rows({H, D})));
    inputs.push_back(std::make_unique<CaseTensor>(be, dt, rows({Hk, D})));
    inputs.push_back(std::make_unique<CaseTensor>(be, dt, rows({Hk, DV})));
  }
  CaseTensor out(be, dt, rows({H, DV}));
  CaseTensor lse(be, DType::f32, varlen ? std::vector<int64_t>{H, B * S} : std::vector<int64_t>{B, H, S});
  std::unique_ptr<CaseTensor> dout, cu_seqlens;
  if (!c.fwd_only) {
    dout = std::make_unique<CaseTensor>(be, dt, rows({H, DV}));
    for (const auto& in : inputs) grads.push_back(std::make_unique<CaseTensor>(be, dt, in->view().sizes()));
  }
  if (varlen) {
    cu_seqlens = std::make_unique<CaseTensor>(be, DType::i32, std::vector<int64_t>{B + 1});
    std::vector<int32_t> cu(size_t(B + 1));
    for (int64_t b = 0; b <= B; ++b) cu[size_t(b)] = int32_t(b * S);
    be.write(cu_seqlens->view().data, cu.data(), cu.size() * sizeof(int32_t));
  }

  uint64_t seed = o.seed * 1000;
  for (const auto& in : inputs) fill_random(be, *in, c.dtype, ++seed);
  if (dout) fill_random(be, *dout, c.dtype, ++seed);
  poison(out, stream);
  poison(lse, stream);
  for (const auto& g : grads) poison(*g, stream);

  // q, k, v views and the matching gradient views.
  auto split = [&](const std::vector<std::unique_ptr<CaseTensor>>& t) {
    if (t.size() == 3) return std::array<TensorView, 3>{t[0]->view(), t[1]->view(), t[2]->view()};
    return split_qkvpacked(t[0]->view());
  };
  const std::array<TensorView, 3> qkv = split(inputs);
  std::array<TensorView, 3> dqkv{};
  if (!grads.empty()) dqkv = split(grads);
  attention::FlashAttnOptions opts;
  opts.causal = c.causal;
  opts.deterministic = c.deterministic;
  // A variant's arguments: drawn by its generator on the host, copied to the device.
  std::vector<std::unique_ptr<CaseTensor>> variant_tensors;
  if (!c.variant.empty()) {
    const attention::VariantChain chain = attention::parse_variant(c.variant, "--variant");
    attention::ProblemDims dims;
    dims.batch = B, dims.nheads = H, dims.nheads_k = Hk, dims.seqlen_q = S, dims.seqlen_k = S, dims.varlen = varlen;
    dims.total_q = dims.total_k = B * S;
    attention::ArgGenerator gen(dims, std::vector<int64_t>(size_t(B), S), std::vector<int64_t>(size_t(B), S), o.seed * 31 + 7);
    for (const attention::VariantSpec* part : chain.parts) (part->bench_args ? part->bench_args : part->generate)(gen);
    for (const auto& [name, value] : gen.args()) {
      if (!value.is_tensor) {
        opts.variant_args[name] = value;
        continue;
      }
      HostTensor host = to_host_tensor(value.tensor, value.tensor.dtype);
      variant_tensors.push_back(std::make_unique<CaseTensor>(be, host.dtype(), host.shape()));
      be.write(variant_tensors.back()->view().data, host.data(), variant_tensors.back()->bytes());
      opts.variant_args[name] = attention::VariantArg::of(variant_tensors.back()->view());
    }
    opts.variant = c.variant;
  }
  // The block mask is built once, outside the timed region (create_block_mask's use).
  std::optional<attention::BlockMask> block_mask;
  if (c.block_mask) {
    attention::VarlenSeqs mask_seqs;
    if (varlen) mask_seqs = {cu_seqlens->view(), cu_seqlens->view(), int(S), int(S)};
    block_mask = attention::create_block_mask(be, qkv[0], qkv[1], qkv[2], varlen ? &mask_seqs : nullptr, opts);
    opts.block_mask = &*block_mask;
  }
  attention::VarlenSeqs seqs;
  if (varlen) seqs = {cu_seqlens->view(), cu_seqlens->view(), int(S), int(S)};

  auto forward = [&] {
    switch (c.func) {
      case AttnFunc::qkvpacked: attention::flash_attn_qkvpacked_func(be, inputs[0]->view(), out.view(), lse.view(), opts); break;
      case AttnFunc::func: attention::flash_attn_func(be, qkv[0], qkv[1], qkv[2], out.view(), lse.view(), opts); break;
      case AttnFunc::varlen_qkvpacked:
        attention::flash_attn_varlen_qkvpacked_func(be, inputs[0]->view(), cu_seqlens->view(), int(S), out.view(), lse.view(), opts);
        break;
    }
  };
  auto backward = [&] {
    if (c.fwd_only) return;
    attention::AttnGradViews g{dqkv[0], dqkv[1], dqkv[2]};
    if (varlen)
      attention::flash_attn_varlen_backward(be, dout->view(), qkv[0], qkv[1], qkv[2], out.view(), lse.view(), seqs, g, opts);
    else
      attention::flash_attn_backward(be, dout->view(), qkv[0], qkv[1], qkv[2], out.view(), lse.view(), g, opts);
  };
  auto step = [&] {
    forward();
    backward();
  };
  uint32_t flush_value = 0;
  auto flush_l2 = [&] {
    TILE_CU_CHECK(cuMemsetD32Async(l2_flush.address(), ++flush_value, kL2FlushBytes / 4, stream.handle()));
  };

  // The first iteration is waited for, so a kernel fault surfaces before anything is timed;
  // the rest queue back to back, as a user's calls do (the API never waits).
  step();
  gpu.synchronize();
  for (int i = 1; i < o.warmup; ++i) step();

  // An event between the forward and the backward times the backward alone as well.
  std::vector<rt::Event> starts(size_t(o.iters)), mids(size_t(o.iters)), stops(size_t(o.iters));
  for (int i = 0; i < o.iters; ++i) {
    flush_l2();
    starts[size_t(i)].record(stream);
    forward();
    mids[size_t(i)].record(stream);
    backward();
    stops[size_t(i)].record(stream);
  }
  gpu.synchronize();
  std::vector<double> ms, bwd_ms;
  for (int i = 0; i < o.iters; ++i) {
    ms.push_back(rt::Event::elapsed_ms(starts[size_t(i)], stops[size_t(i)]));
    bwd_ms.push_back(rt::Event::elapsed_ms(mids[size_t(i)], stops[size_t(i)]));
  }
  std::sort(ms.begin(), ms.end());
  std::sort(bwd_ms.begin(), bwd_ms.end());
  auto median = [](const std::vector<double>& v) {
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };

  CaseRun run;
  CaseResult& r = run.result;
  r.c = c;
  r.warmup = std::max(1, o.warmup);
  r.iters = o.iters;
  r.median_ms = median(ms);
  if (!c.fwd_only) r.bwd_median_ms = median(bwd_ms);
  r.min_ms = ms.front();
  r.max_ms = ms.back();
  r.device_used_mb = used_device_mb() - used_before_mb;

  if (o.profile) {
    flush_l2();
    timeline.begin();
    step();
    run.spans = timeline.end();
  }
  check_written(be, out, "out");
  for (size_t i = 0; i < grads.size(); ++i) check_written(be, *grads[i], grads.size() == 1 ? "dqkv" : i == 0 ? "dq" : i == 1 ? "dk" : "dv");
  r.peak_memory_mb = double(pool.peak_held_bytes()) / double(1 << 20);
  return run;
}

}  // namespace tile::bench
