// The GPU backend of the C ABI: the compiled kernels of attention/gpu, launched on the caller's
// stream (PyTorch's current stream) instead of a stream of the backend's own, so the work is
// ordered with the caller's. Asynchronous like flash-attn: a call enqueues its kernels and
// returns; workspace buffers are kept per stream and reused (zeroed on the stream), so after the
// first call of a shape there is no device allocation and no host synchronisation (the varlen
// functions still read cu_seqlens back to validate them). MLIR-free.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <vector>

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
  // No wait: the caller orders its own work after ours on the same stream (the host API calls
  // this at the end of every call; the GPU's results are complete in stream order).
  void synchronize() override {}

 private:
  // Buffers used by one stream: a buffer freed by a call is only handed out again on that
  // stream, after everything queued before it, so reuse needs no wait.
  struct StreamPool {
    std::map<void*, rt::DeviceBuffer> in_use;
    std::multimap<size_t, rt::DeviceBuffer> idle;  // by size
  };
  // Buffers allocated while the caller's stream was being captured into a CUDA graph: the
  // graph's replays use them whenever they run, so they never go back to a pool (kept for the
  // life of the process).
  std::vector<rt::DeviceBuffer> graph_owned_;
  std::set<void*> captured_;

  int ordinal_;
  rt::Stream stream_;
  std::map<CUstream, StreamPool> pools_;
};

}  // namespace tile::attention::capi
