// The GPU backend of the C ABI: the compiled kernels of attention/gpu, launched on the caller's
// stream (PyTorch's current stream) instead of a stream of the backend's own, so the work is
// ordered with the caller's. MLIR-free.
#pragma once

#include <map>

#include "attention/host/backend.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"

namespace tile::attention::capi {

class CallerStreamGpuBackend : public Backend {
 public:
  // Makes device `ordinal`'s primary context (the one PyTorch uses) current. Throws
  // rt::DriverUnavailable without a driver or GPU.
  explicit CallerStreamGpuBackend(int ordinal);

  // The stream the next calls order their work on (null: the legacy default stream).
  void use_stream(void* stream);

  Device device() const override { return Device::cuda(ordinal_); }
  std::string name() const override { return "gpu"; }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override;
  void write(void* dst, const void* host_src, size_t bytes) override;
  void launch(const KernelCall& call) override;
  void synchronize() override;

 private:
  int ordinal_;
  rt::Stream stream_;
  std::map<void*, rt::DeviceBuffer> buffers_;  // workspace allocations by address
};

}  // namespace tile::attention::capi
