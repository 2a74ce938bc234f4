#include "distributed/gpu_attention/ring_gpu_backend.h"

#include <stdexcept>
#include <string>

#include "distributed/elementwise_calls.h"
#include "distributed/gpu_attention/ring_attention_kernels.h"
#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"

namespace tile::dist {
namespace {

const rt::KernelImage& image_for(const attention::KernelCall& call) {
  static const std::map<std::string, const rt::KernelImage*> images = [] {
    std::map<std::string, const rt::KernelImage*> m;
    for (int i = 0; i < kernels::ring_attention_kernels_num_kernels; ++i)
      m[kernels::ring_attention_kernels_kernels[i]->name] = kernels::ring_attention_kernels_kernels[i];
    return m;
  }();
  // Same naming rule as the element-wise kernels and attention/gpu's table.
  auto it = images.find(elementwise_instance_name(call));
  if (it == images.end())
    throw std::invalid_argument("gpu backend: kernel " + call.kernel + " {" + call.params.str() +
                                "} is not among the ring's compiled specialisations (distributed/gpu_attention/BUILD)");
  return *it->second;
}

CUdeviceptr address(const void* p) { return CUdeviceptr(reinterpret_cast<uintptr_t>(p)); }

}  // namespace

RingGpuBackend::RingGpuBackend(int ordinal) : ordinal_(ordinal) {
  rt::Context::primary(ordinal).make_current();
  stream_ = std::make_unique<rt::Stream>();
}

RingGpuBackend::~RingGpuBackend() = default;

void* RingGpuBackend::alloc_zeroed(size_t bytes) {
  rt::DeviceBuffer buf(bytes ? (bytes + 3) / 4 * 4 : 4);
  TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, buf.size(), stream_->handle()));  // in stream order
  void* p = buf.data();
  std::lock_guard<std::mutex> lock(mutex_);
  buffers_.emplace(p, std::move(buf));
  return p;
}

void RingGpuBackend::free(void* p) {
  synchronize();  // kernels queued on the stream may still use it
  std::lock_guard<std::mutex> lock(mutex_);
  buffers_.erase(p);
}

void RingGpuBackend::read(void* host_dst, const void* src, size_t bytes) {
  TILE_CU_CHECK(cuMemcpyDtoHAsync(host_dst, address(src), bytes, stream_->handle()));
  synchronize();
}

void RingGpuBackend::write(void* dst, const void* host_src, size_t bytes) {
  TILE_CU_CHECK(cuMemcpyHtoDAsync(address(dst), host_src, bytes, stream_->handle()));
  synchronize();
}

void RingGpuBackend::launch(const attention::KernelCall& call) {
  rt::ArgPack pack;
  for (const attention::LaunchArg& a : call.args) {
    switch (a.kind) {
      case attention::LaunchArg::Kind::buffer: pack.pointer(a.data); break;
      case attention::LaunchArg::Kind::i32: pack.i32(a.i); break;
      case attention::LaunchArg::Kind::f32: pack.f32(a.f); break;
    }
  }
  rt::launch_kernel(image_for(call), *stream_,
                    rt::Dim3{unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2])}, pack);
}

void RingGpuBackend::synchronize() { stream_->synchronize(); }

}  // namespace tile::dist
