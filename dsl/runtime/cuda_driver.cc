#include "dsl/runtime/cuda_driver.h"

#include <dlfcn.h>

#include <mutex>
#include <sstream>

namespace tile::rt {
namespace {

// Expands <cuda.h>'s versioning macros before stringifying: cuMemAlloc -> "cuMemAlloc_v2".
#define TILE_RT_STRINGIFY_EXPANDED(x) TILE_RT_STRINGIFY(x)
#define TILE_RT_STRINGIFY(x) #x

const char* const kDefaultLibrary = "libcuda.so.1";

// Names for the errors a driver that cannot initialise returns; the stub library's
// cuGetErrorName knows none of them.
const char* fallback_error_name(CUresult code) {
  switch (code) {
    case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case CUDA_ERROR_STUB_LIBRARY: return "CUDA_ERROR_STUB_LIBRARY";
    case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case CUDA_ERROR_DEVICE_UNAVAILABLE: return "CUDA_ERROR_DEVICE_UNAVAILABLE";
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
    case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
      return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE";
    default: return nullptr;
  }
}

std::string error_name(const DriverApi& api, CUresult code) {
  const char* name = nullptr;
  if (api.cuGetErrorName == nullptr || api.cuGetErrorName(code, &name) != CUDA_SUCCESS ||
      name == nullptr) {
    name = fallback_error_name(code);
  }
  return name ? name : "CUresult " + std::to_string(static_cast<int>(code));
}

std::string error_description(const DriverApi& api, CUresult code) {
  const char* text = nullptr;
  if (api.cuGetErrorString == nullptr || api.cuGetErrorString(code, &text) != CUDA_SUCCESS ||
      text == nullptr) {
    return "no description";
  }
  return text;
}

struct CachedDriver {
  DriverApi api;
  std::string error;  // empty when api is usable
};

const CachedDriver& cached_driver() {
  static const CachedDriver cached = [] {
    CachedDriver c;
    try {
      c.api = load_driver(kDefaultLibrary);
    } catch (const DriverUnavailable& e) {
      c.error = e.what();
    }
    return c;
  }();
  return cached;
}

}  // namespace

DriverApi load_driver(const std::string& library) {
  // RTLD_LOCAL: the driver's symbols must not leak into the global namespace of a process
  // that may also hold PyTorch's or NCCL's copy.
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw DriverUnavailable("CUDA driver unavailable: cannot load " + library + " (" +
                            (why ? why : "unknown dlopen error") +
                            "). GPU work needs a machine with an NVIDIA driver.");
  }
  DriverApi api;
  std::string missing;
#define TILE_RT_RESOLVE_DRIVER_FN(fn)                                                     \
  api.fn = reinterpret_cast<decltype(api.fn)>(                                            \
      dlsym(handle, TILE_RT_STRINGIFY_EXPANDED(fn)));                                      \
  if (api.fn == nullptr) missing += std::string(missing.empty() ? "" : ", ") +            \
                                    TILE_RT_STRINGIFY_EXPANDED(fn);
  TILE_RT_DRIVER_FUNCTIONS(TILE_RT_RESOLVE_DRIVER_FN)
#undef TILE_RT_RESOLVE_DRIVER_FN
  if (!missing.empty()) {
    // The handle stays open: unloading a half-resolved driver gains nothing.
    throw DriverUnavailable("CUDA driver unavailable: " + library +
                            " lacks entry points: " + missing +
                            " (driver older than the CUDA 13 headers this was built with?)");
  }
  CUresult init = api.cuInit(0);
  if (init != CUDA_SUCCESS) {
    throw DriverUnavailable("CUDA driver unavailable: cuInit(0) in " + library + " failed: " +
                            error_name(api, init) + " (" + error_description(api, init) +
                            "). Is there a GPU on this machine?");
  }
  api.cuDriverGetVersion(&api.driver_version);
  return api;
}

const DriverApi& driver() {
  const CachedDriver& c = cached_driver();
  if (!c.error.empty()) throw DriverUnavailable(c.error);
  return c.api;
}

bool driver_available(std::string* why) {
  const CachedDriver& c = cached_driver();
  if (why != nullptr) *why = c.error;
  return c.error.empty();
}

namespace detail {

void throw_cuda_error(CUresult code, const char* call, const char* file, int line) {
  const DriverApi& api = cached_driver().api;
  std::ostringstream out;
  out << file << ":" << line << ": " << call << " failed: " << error_name(api, code) << " ("
      << error_description(api, code) << ")";
  throw CudaError(code, out.str());
}

}  // namespace detail
}  // namespace tile::rt
