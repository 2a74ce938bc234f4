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
  const size_t size = bytes ? (bytes + 3) / 4 * 4 : 4;
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  TILE_CU_CHECK(cuStreamIsCapturing(stream_.handle(), &capture));
  if (capture == CU_STREAM_CAPTURE_STATUS_ACTIVE) {
    // The allocation is no work of the captured stream: step out of the capture's "global"
    // mode for it. The zeroing is captured: every replay starts from zeros.
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    TILE_CU_CHECK(cuThreadExchangeStreamCaptureMode(&mode));
    rt::DeviceBuffer buf(size);
    TILE_CU_CHECK(cuThreadExchangeStreamCaptureMode(&mode));
    TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, size, stream_.handle()));
    void* p = buf.data();
    captured_.insert(p);
    graph_owned_.push_back(std::move(buf));
    return p;
  }
  StreamPool& pool = pools_[stream_.handle()];
  // The smallest idle buffer that fits, if it is not more than twice the size asked for.
  auto it = pool.idle.lower_bound(size);
  rt::DeviceBuffer buf;
  if (it != pool.idle.end() && it->first <= 2 * size) {
    buf = std::move(it->second);
    pool.idle.erase(it);
  } else {
    buf = rt::DeviceBuffer(size);
  }
  // Zeroed on the caller's stream, so kernels queued after it see zeros.
  TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, size, stream_.handle()));
  void* p = buf.data();
  pool.in_use.emplace(p, std::move(buf));
  return p;
}

void CallerStreamGpuBackend::free(void* p) {
  if (captured_.count(p)) return;  // the graph keeps it
  StreamPool& pool = pools_[stream_.handle()];
  auto it = pool.in_use.find(p);
  if (it == pool.in_use.end()) return;
  const size_t size = it->second.size();
  pool.idle.emplace(size, std::move(it->second));
  pool.in_use.erase(it);
}

void CallerStreamGpuBackend::read(void* host_dst, const void* src, size_t bytes) {
  // The caller's earlier work on the stream may still be writing `src`: copy in stream order.
  TILE_CU_CHECK(cuMemcpyDtoHAsync(host_dst, CUdeviceptr(reinterpret_cast<uintptr_t>(src)), bytes, stream_.handle()));
  stream_.synchronize();
}

void CallerStreamGpuBackend::write(void* dst, const void* host_src, size_t bytes) {
  TILE_CU_CHECK(cuMemcpyHtoDAsync(CUdeviceptr(reinterpret_cast<uintptr_t>(dst)), host_src, bytes, stream_.handle()));
  stream_.synchronize();  // host_src may go away when we return
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

}  // namespace tile::attention::capi
