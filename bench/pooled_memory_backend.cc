#include "bench/pooled_memory_backend.h"

#include <algorithm>
#include <stdexcept>

namespace tile::bench {

PooledMemoryBackend::PooledMemoryBackend(attention::Backend& inner, ZeroFn zero_reused)
    : inner_(inner), zero_reused_(std::move(zero_reused)) {}

PooledMemoryBackend::~PooledMemoryBackend() {
  // inner_.free waits for queued kernels before releasing memory.
  for (auto& [ptr, bytes] : live_buffers_) inner_.free(ptr);
  for (auto& [bytes, ptr] : cached_) inner_.free(ptr);
}

void* PooledMemoryBackend::alloc_zeroed(size_t bytes) {
  void* p = nullptr;
  if (auto it = cached_.find(bytes); it != cached_.end()) {
    p = it->second;
    cached_.erase(it);
    zero_reused_(p, bytes);
    ++reuses_;
  } else {
    p = inner_.alloc_zeroed(bytes);
    held_ += bytes;
    peak_held_ = std::max(peak_held_, held_);
  }
  live_buffers_.emplace(p, bytes);
  live_ += bytes;
  return p;
}

void PooledMemoryBackend::free(void* p) {
  auto it = live_buffers_.find(p);
  if (it == live_buffers_.end()) throw std::invalid_argument("PooledMemoryBackend::free: unknown pointer");
  live_ -= it->second;
  cached_.emplace(it->second, p);
  live_buffers_.erase(it);
}

}  // namespace tile::bench
