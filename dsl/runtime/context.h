// Device selection and the primary context (the one the CUDA runtime and PyTorch also use, so
// pointers and streams are shared with them).
#pragma once

#include <cstddef>
#include <string>

#include "dsl/runtime/cuda_driver.h"

namespace tile::rt {

class Context {
 public:
  // Retains device `ordinal`'s primary context (once per process) and makes it current on the
  // calling thread. Throws DriverUnavailable without a driver, CudaError for a bad ordinal.
  static Context& primary(int ordinal = 0);

  // Makes this context current on the calling thread.
  void make_current() const;
  // Waits for all work in this context.
  void synchronize() const;

  CUcontext handle() const { return context_; }
  CUdevice device() const { return device_; }
  int ordinal() const { return ordinal_; }
  std::string device_name() const;
  int attribute(CUdevice_attribute attribute) const;
  int multiprocessor_count() const;
  int compute_capability() const;  // e.g. 90 for sm_90
  // Largest dynamic shared memory a block may opt into (bytes).
  int max_shared_memory_per_block_optin() const;

  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  Context(int ordinal, CUdevice device, CUcontext context)
      : ordinal_(ordinal), device_(device), context_(context) {}
  int ordinal_;
  CUdevice device_;
  CUcontext context_;
};

// The context current on this thread; when none is, makes device 0's primary context current.
CUcontext ensure_current_context();

// Number of CUDA devices (0 when there is no usable driver; never throws).
int device_count();

}  // namespace tile::rt
