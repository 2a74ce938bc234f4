// A device copy of a host tensor for the GPU tests, in the backend's workspace (freed with it):
// its bytes, the buffer, and a view with the host tensor's shape and strides on the device.
#pragma once

#include <cstddef>

#include "attention/gpu/gpu_backend.h"
#include "attention/host/backend.h"
#include "dsl/core/tensor_view.h"

namespace tile::gpu_tests {

struct DeviceTensor {
  DeviceTensor(attention::GpuBackend& be, const HostTensor& h)
      : bytes(size_t(h.numel()) * dtype_size(h.dtype())), buffer(be, bytes), view(h.view()) {
    view.data = buffer.get();
    view.device = be.device();
    be.write(buffer.get(), h.data(), bytes);
  }
  size_t bytes;
  attention::Workspace buffer;
  TensorView view;
};

}  // namespace tile::gpu_tests
