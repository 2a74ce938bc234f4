// The GPU library: one GpuBackend per thread and device, on the caller's stream (PyTorch's
// current stream) instead of a stream of its own, so the work is ordered with the caller's; each
// holds the stream of the current call, so threads on different streams do not share one.
// Created on first use. Asynchronous like flash-attn (gpu_backend.h): a call queues its kernels
// and returns; workspace is reused per stream.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "attention/capi/backend_provider.h"
#include "attention/gpu/gpu_backend.h"

namespace tile::attention::capi {

BackendLease backend_for(const Device& device, void* stream) {
  if (device.kind != DeviceKind::cuda)
    throw std::invalid_argument("tensors: the GPU library expects CUDA tensors, got " + device.str() +
                                " (use libtileattn_cpu.so for CPU tensors)");
  thread_local std::map<int, std::unique_ptr<GpuBackend>> backends;
  std::unique_ptr<GpuBackend>& be = backends[device.index];
  if (!be) be = std::make_unique<GpuBackend>(device.index, static_cast<CUstream>(stream));
  be->use_stream(stream);
  BackendLease lease;
  lease.backend = be.get();
  return lease;
}

const char* backend_name() { return "gpu"; }

}  // namespace tile::attention::capi
