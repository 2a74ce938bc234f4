#include "attention/capi/caller_stream_gpu_backend.h"

#include "attention/gpu/gpu_backend.h"
#include "dsl/runtime/arg_pack.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"

namespace tile::attention::capi {

CallerStreamGpuBackend::CallerStreamGpuBackend(int ordinal)
    : ordinal_(ordinal), stream_(rt::Stream::borrow(nullptr)) {
  rt::Context::primary(ordinal).make_current();
}

void CallerStreamGpuBackend::use_stream(void* stream) {
  rt::Context::primary(ordinal_).make_current();  // the caller's thread may have none current
  stream_ = rt::Stream::borrow(static_cast<CUstream>(stream));
}

void* CallerStreamGpuBackend::alloc_zeroed(size_t bytes) {
  rt::DeviceBuffer buf(bytes ? (bytes + 3) / 4 * 4 : 4);
  // Zeroed on the caller's stream, so kernels queued after it see zeros.
  TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, buf.size(), stream_.handle()));
  void* p = buf.data();
  buffers_.emplace(p, std::move(buf));
  return p;
}

void CallerStreamGpuBackend::free(void* p) {
  synchronize();  // kernels queued on the stream may still use it
  buffers_.erase(p);
}

void CallerStreamGpuBackend::read(void* host_dst, const void* src, size_t bytes) {
  synchronize();  // the caller's earlier work on the stream may still be writing it
  TILE_CU_CHECK(cuMemcpyDtoHAsync(host_dst, CUdeviceptr(reinterpret_cast<uintptr_t>(src)), bytes, stream_.handle()));
  synchronize();
}

void CallerStreamGpuBackend::write(void* dst, const void* host_src, size_t bytes) {
  TILE_CU_CHECK(cuMemcpyHtoDAsync(CUdeviceptr(reinterpret_cast<uintptr_t>(dst)), host_src, bytes, stream_.handle()));
  synchronize();  // host_src may go away when we return
}

void CallerStreamGpuBackend::launch(const KernelCall& call) {
  const rt::KernelImage* image = compiled_image(instance_name(call.kernel, call.params));
  if (image == nullptr)
    throw std::invalid_argument("gpu backend: kernel " + call.kernel + " {" + call.params.str() +
                                "} is not among the compiled specialisations");
  rt::ArgPack pack;
  for (const LaunchArg& a : call.args) {
    switch (a.kind) {
      case LaunchArg::Kind::buffer: pack.pointer(a.data); break;
      case LaunchArg::Kind::i32: pack.i32(a.i); break;
      case LaunchArg::Kind::f32: pack.f32(a.f); break;
    }
  }
  rt::launch_kernel(*image, stream_, rt::Dim3{unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2])}, pack);
}

void CallerStreamGpuBackend::synchronize() { stream_.synchronize(); }

}  // namespace tile::attention::capi
