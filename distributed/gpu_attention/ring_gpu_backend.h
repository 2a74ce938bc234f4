// An attention::Backend on one GPU over the ring's compiled attention kernels
// (:ring_attention_kernels): device memory, launches on a stream of its own. Thread-safe for
// allocation and launches (virtual ranks share it). Kernels are looked up by the same instance
// names as attention/gpu's backend.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "attention/host/backend.h"
#include "dsl/runtime/memory.h"
#include "dsl/runtime/stream.h"

namespace tile::dist {

class RingGpuBackend : public attention::Backend {
 public:
  // Device `ordinal`'s primary context, made current on the calling thread.
  explicit RingGpuBackend(int ordinal = 0);
  ~RingGpuBackend() override;

  Device device() const override { return Device::cuda(ordinal_); }
  std::string name() const override { return "gpu"; }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override;
  void write(void* dst, const void* host_src, size_t bytes) override;
  void launch(const attention::KernelCall& call) override;
  void synchronize() override;

  rt::Stream& stream() { return *stream_; }

 private:
  int ordinal_;
  std::unique_ptr<rt::Stream> stream_;
  std::mutex mutex_;
  std::map<void*, rt::DeviceBuffer> buffers_;
};

}  // namespace tile::dist
