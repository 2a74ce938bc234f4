// The CPU library: every call runs on one process-wide interpreter backend, whose kernel cache
// (tile IR built once per specialisation) is what makes repeated calls cheap; a mutex serialises
// callers because the cache is not thread-safe.
#include <stdexcept>
#include <string>

#include "attention/capi/backend_provider.h"
#include "attention/interp_backend/interp_backend.h"

namespace tile::attention::capi {

BackendLease backend_for(const Device& device, void* stream) {
  if (device.kind != DeviceKind::cpu)
    throw std::invalid_argument("tensors: the CPU library (interpreter) expects CPU tensors, got " + device.str() +
                                " (use libtileattn_gpu.so for CUDA tensors)");
  if (stream != nullptr) throw std::invalid_argument("stream: the CPU library expects NULL, got a stream handle");
  static std::mutex mutex;
  static InterpBackend* backend = new InterpBackend();  // never destroyed: callers may run at exit
  BackendLease lease;
  lease.lock = std::unique_lock<std::mutex>(mutex);
  lease.backend = backend;
  return lease;
}

const char* backend_name() { return "interp"; }

}  // namespace tile::attention::capi
