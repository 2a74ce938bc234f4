// A Backend decorator that keeps freed buffers for reuse and counts the device memory a case
// holds. Why: the API asks for its workspace (dQ accumulator, delta, LSE in log2) on every
// call; this keeps it per case, with a count of the bytes held (the GPU backend's own pool
// reuses buffers too, but counts nothing), as PyTorch's caching allocator does for SDPA.
// Reused buffers are zeroed by `zero_reused` (on the GPU: a memset queued on the launch
// stream, so the cost of zeroing the dQ accumulator stays in the timing, as it does for
// flash-attn).
#pragma once

#include <cstddef>
#include <functional>
#include <map>

#include "attention/host/backend.h"

namespace tile::bench {

class PooledMemoryBackend : public attention::Backend {
 public:
  using ZeroFn = std::function<void(void* ptr, size_t bytes)>;
  PooledMemoryBackend(attention::Backend& inner, ZeroFn zero_reused);
  ~PooledMemoryBackend() override;  // returns every buffer, live or cached, to `inner`
  PooledMemoryBackend(const PooledMemoryBackend&) = delete;
  PooledMemoryBackend& operator=(const PooledMemoryBackend&) = delete;

  Device device() const override { return inner_.device(); }
  std::string name() const override { return inner_.name(); }
  void* alloc_zeroed(size_t bytes) override;
  void free(void* p) override;
  void read(void* host_dst, const void* src, size_t bytes) override { inner_.read(host_dst, src, bytes); }
  void write(void* dst, const void* host_src, size_t bytes) override { inner_.write(dst, host_src, bytes); }
  void launch(const attention::KernelCall& call) override { inner_.launch(call); }
  void synchronize() override { inner_.synchronize(); }
  int persistent_programs() const override { return inner_.persistent_programs(); }

  // Bytes taken from the inner backend and not yet given back (live + cached), and the most
  // there ever were. Counts requested bytes; the driver's page granularity is not included.
  size_t held_bytes() const { return held_; }
  size_t live_bytes() const { return live_; }
  size_t peak_held_bytes() const { return peak_held_; }
  size_t reuse_count() const { return reuses_; }

 private:
  attention::Backend& inner_;
  ZeroFn zero_reused_;
  std::map<void*, size_t> live_buffers_;
  std::multimap<size_t, void*> cached_;  // by size: a request reuses a buffer of exactly its size
  size_t held_ = 0, live_ = 0, peak_held_ = 0, reuses_ = 0;
};

}  // namespace tile::bench
