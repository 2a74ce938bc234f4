#include "distributed/gpu_tensor_ops.h"

#include <map>
#include <stdexcept>
#include <string>

#include "distributed/cpu_tensor_ops.h"
#include "distributed/elementwise_calls.h"
#include "distributed/gpu_stream_order.h"
#include "distributed/kernels/elementwise_kernels.h"
#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/memory.h"

namespace tile {
namespace dist {
namespace {

const rt::KernelImage& image_for(const attention::KernelCall& call) {
  static const std::map<std::string, const rt::KernelImage*> images = [] {
    std::map<std::string, const rt::KernelImage*> m;
    for (int i = 0; i < kernels::elementwise_kernels_num_kernels; ++i)
      m[kernels::elementwise_kernels_kernels[i]->name] = kernels::elementwise_kernels_kernels[i];
    return m;
  }();
  const std::string name = elementwise_instance_name(call);
  auto it = images.find(name);
  if (it == images.end())
    throw std::invalid_argument("gpu tensor ops: kernel " + call.kernel + " {" + call.params.str() +
                                "} is not compiled (distributed/kernels/elementwise_instances.bzl)");
  return *it->second;
}

void launch(const attention::KernelCall& call, rt::Stream& stream) {
  rt::ArgPack pack;
  for (const attention::LaunchArg& a : call.args) {
    switch (a.kind) {
      case attention::LaunchArg::Kind::buffer: pack.pointer(a.data); break;
      case attention::LaunchArg::Kind::i32: pack.i32(a.i); break;
      case attention::LaunchArg::Kind::f32: pack.f32(a.f); break;
    }
  }
  rt::launch_kernel(image_for(call), stream,
                    rt::Dim3{unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2])}, pack);
}

void check_on(const TensorView& v, const Device& device, const char* what) {
  if (v.device != device)
    throw std::invalid_argument(std::string(what) + ": GpuTensorOps needs memory on " + device.str() + ", got " +
                                describe(v));
}

CUdeviceptr address(const void* p) { return CUdeviceptr(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

GpuTensorOps::GpuTensorOps(std::shared_ptr<GpuRank> rank) : rank_(std::move(rank)) {
  if (!rank_) throw std::invalid_argument("GpuTensorOps: no GpuRank");
  rt::Context::primary(rank_->ordinal()).make_current();
  order_ = std::make_shared<GpuStreamOrder>(rank_);
}

void GpuTensorOps::run(const attention::KernelCall& call) {
  auto describe = [&] {
    TimelineSpan s;
    s.name = call.kernel;
    s.detail = elementwise_instance_name(call);
    s.step = rank_->step();
    s.grid = call.grid;
    return s;
  };
  rank_->timed(stream(), describe, [&] { launch(call, stream()); });
}

DeviceTensor GpuTensorOps::empty(DType dtype, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  void* data = rank_->alloc(static_cast<size_t>(n) * dtype_size(dtype));
  std::shared_ptr<GpuRank> rank = rank_;  // the pool outlives its tensors
  DeviceTensor t;
  t.storage = std::shared_ptr<void>(data, [rank](void* p) { rank->free(p); });
  t.view = TensorView::contiguous(data, dtype, shape, device());
  return t;
}

void GpuTensorOps::fill(const TensorView& dst, double value) {
  check_on(dst, device(), "fill");
  if (dst.numel() > 0) run(fill_call(dst, static_cast<float>(value)));
}

void GpuTensorOps::copy(const TensorView& dst, const TensorView& src) {
  check_on(dst, device(), "copy dst");
  check_on(src, device(), "copy src");
  check_same_shape(dst, src, "copy");
  if (dst.numel() == 0) return;
  if (dst.dtype == src.dtype && dst.is_contiguous() && src.is_contiguous()) {
    copy_bytes(dst.data, src.data, contiguous_bytes(dst, "copy"));
    return;
  }
  run(copy_call(dst, src));
}

void GpuTensorOps::accumulate(const TensorView& acc, const TensorView& src) {
  check_on(acc, device(), "accumulate acc");
  check_on(src, device(), "accumulate src");
  if (acc.numel() > 0) run(accumulate_call(acc, src));
}

void GpuTensorOps::merge_partial(const TensorView& out, const TensorView& lse, const TensorView& block_out,
                                 const TensorView& block_lse) {
  for (const TensorView* v : {&out, &lse, &block_out, &block_lse}) check_on(*v, device(), "merge_partial");
  if (out.numel() > 0) run(merge_call(out, lse, block_out, block_lse));
}

void GpuTensorOps::upload(const TensorView& dst, const TensorView& host_src) {
  check_on(dst, device(), "upload dst");
  check_on(host_src, Device::cpu(), "upload src");
  check_same_shape(dst, host_src, "upload");
  if (dst.dtype != host_src.dtype) throw std::invalid_argument("upload: dtypes differ, " + describe(dst) + " vs " + describe(host_src));
  const size_t bytes = contiguous_bytes(dst, "upload dst");
  contiguous_bytes(host_src, "upload src");
  TILE_CU_CHECK(cuMemcpyHtoDAsync(address(dst.data), host_src.data, bytes, stream().handle()));
  stream().synchronize();  // the host buffer may go away after this returns
}

void GpuTensorOps::download(const TensorView& host_dst, const TensorView& src) {
  check_on(host_dst, Device::cpu(), "download dst");
  check_on(src, device(), "download src");
  check_same_shape(host_dst, src, "download");
  if (host_dst.dtype != src.dtype) throw std::invalid_argument("download: dtypes differ, " + describe(host_dst) + " vs " + describe(src));
  const size_t bytes = contiguous_bytes(src, "download src");
  contiguous_bytes(host_dst, "download dst");
  TILE_CU_CHECK(cuMemcpyDtoHAsync(host_dst.data, address(src.data), bytes, stream().handle()));
  stream().synchronize();
}

void GpuTensorOps::synchronize() { rank_->synchronize(); }

void GpuTensorOps::copy_bytes(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  auto describe = [&] {
    TimelineSpan s;
    s.name = "memcpy";
    s.detail = std::to_string(bytes) + " bytes";
    s.step = rank_->step();
    return s;
  };
  rank_->timed(stream(), describe, [&] {
    TILE_CU_CHECK(cuMemcpyDtoDAsync(address(dst), address(src), bytes, stream().handle()));
  });
}

}  // namespace dist
}  // namespace tile
