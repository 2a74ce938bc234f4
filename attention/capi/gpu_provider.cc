// The GPU library: one backend per thread and device (each holds the stream of the current call,
// so threads on different streams do not share one), created on first use.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "attention/capi/backend_provider.h"
#include "attention/capi/caller_stream_gpu_backend.h"

namespace tile::attention::capi {

BackendLease backend_for(const Device& device, void* stream) {
  if (device.kind != DeviceKind::cuda)
    throw std::invalid_argument("tensors: the GPU library expects CUDA tensors, got " + device.str() +
                                " (use libtileattn_cpu.so for CPU tensors)");
  thread_local std::map<int, std::unique_ptr<CallerStreamGpuBackend>> backends;
  std::unique_ptr<CallerStreamGpuBackend>& be = backends[device.index];
  if (!be) be = std::make_unique<CallerStreamGpuBackend>(device.index);
  be->use_stream(stream);
  BackendLease lease;
  lease.backend = be.get();
  return lease;
}

const char* backend_name() { return "gpu"; }

}  // namespace tile::attention::capi
