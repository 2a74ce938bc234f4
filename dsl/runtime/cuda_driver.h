// The CUDA driver API, loaded at run time with dlopen("libcuda.so.1").
//
// Nothing links against libcuda: the same binaries start on machines without a GPU (CI, the build
// machine) and report a clear DriverUnavailable error only when GPU work is asked for. <cuda.h> is
// included for its types and prototypes only.
#pragma once

#include <cuda.h>

#include <stdexcept>
#include <string>

namespace tile::rt {

// No usable driver: libcuda.so.1 missing, a symbol missing, or cuInit failed (no GPU).
class DriverUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A driver call returned an error. what() names the call text, the site and the error.
class CudaError : public std::runtime_error {
 public:
  CudaError(CUresult code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  CUresult code() const { return code_; }

 private:
  CUresult code_;
};

// Every driver entry point the project calls. The names go through <cuda.h>'s macros, so
// `cuMemAlloc` here is the versioned `cuMemAlloc_v2` symbol, as a linked program would use.
#define TILE_RT_DRIVER_FUNCTIONS(X)                                                       \
  X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString)                   \
  X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute)           \
  X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease)            \
  X(cuCtxSetCurrent) X(cuCtxGetCurrent) X(cuCtxGetDevice) X(cuCtxSynchronize)             \
  X(cuModuleLoadData) X(cuModuleLoadDataEx) X(cuModuleUnload) X(cuModuleGetFunction)      \
  X(cuFuncSetAttribute) X(cuFuncGetAttribute) X(cuLaunchKernel)                           \
  X(cuMemAlloc) X(cuMemFree) X(cuMemGetInfo)                                              \
  X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyDtoD)                                         \
  X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync)                          \
  X(cuMemsetD8) X(cuMemsetD32) X(cuMemsetD8Async) X(cuMemsetD32Async)                     \
  X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize)                             \
  X(cuThreadExchangeStreamCaptureMode) X(cuStreamIsCapturing)                             \
  X(cuStreamBeginCapture) X(cuStreamEndCapture) X(cuGraphInstantiate) X(cuGraphLaunch)    \
  X(cuGraphDestroy) X(cuGraphExecDestroy)                                                 \
  X(cuEventCreate) X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize)               \
  X(cuEventElapsedTime) X(cuStreamWaitEvent) X(cuTensorMapEncodeTiled)

// The table of resolved entry points.
struct DriverApi {
#define TILE_RT_DECLARE_DRIVER_FN(fn) decltype(&::fn) fn = nullptr;
  TILE_RT_DRIVER_FUNCTIONS(TILE_RT_DECLARE_DRIVER_FN)
#undef TILE_RT_DECLARE_DRIVER_FN
  int driver_version = 0;  // from cuDriverGetVersion, e.g. 13000
};

// The process-wide driver: loaded and cuInit'ed on first use. Throws DriverUnavailable (the same
// message every time) when there is no usable driver.
const DriverApi& driver();

// True when driver() would succeed; otherwise `why` (if given) receives the reason.
bool driver_available(std::string* why = nullptr);

// Loads a driver from `library` (a soname or path) and runs cuInit, without caching. For tests
// and diagnostics; everything else uses driver().
DriverApi load_driver(const std::string& library);

namespace detail {
// Formats "<file>:<line>: <call> failed: <CUDA_ERROR_NAME> (<description>)" and throws CudaError.
[[noreturn]] void throw_cuda_error(CUresult code, const char* call, const char* file, int line);

inline void check(CUresult code, const char* call, const char* file, int line) {
  if (code != CUDA_SUCCESS) throw_cuda_error(code, call, file, line);
}
}  // namespace detail

}  // namespace tile::rt

// Runs a driver call through the loaded table and throws CudaError naming the call on failure:
//   TILE_CU_CHECK(cuMemAlloc(&ptr, bytes));
#define TILE_CU_CHECK(call) \
  ::tile::rt::detail::check(::tile::rt::driver().call, #call, __FILE__, __LINE__)
