// Which Backend runs a C ABI call. The two shared libraries differ only here: the CPU one links
// interp_provider.cc (the interpreter), the GPU one gpu_provider.cc (compiled kernels, no MLIR).
#pragma once

#include <memory>
#include <mutex>

#include "attention/host/backend.h"
#include "dsl/core/tensor_view.h"

namespace tile::attention::capi {

// A backend held for one call: `lock` (possibly empty) serialises callers of a shared backend.
struct BackendLease {
  Backend* backend = nullptr;
  std::unique_lock<std::mutex> lock;
};

// The backend for tensors on `device`, ordering its work on `stream` (a CUstream; must be null
// for the CPU library). Throws std::invalid_argument for a device this library does not serve.
BackendLease backend_for(const Device& device, void* stream);
// "gpu" or "interp".
const char* backend_name();

}  // namespace tile::attention::capi
