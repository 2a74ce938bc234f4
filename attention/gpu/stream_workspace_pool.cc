#include "attention/gpu/stream_workspace_pool.h"

#include <utility>

namespace tile::attention {

rt::DeviceBuffer StreamWorkspacePool::allocate(size_t bytes) {
  rt::DeviceBuffer buf;
  try {
    buf = rt::DeviceBuffer(bytes);
  } catch (const rt::CudaError& e) {
    bool idle = false;
    for (const auto& [stream, buffers] : idle_) idle = idle || !buffers.empty();
    if (e.code() != CUDA_ERROR_OUT_OF_MEMORY || !idle) throw;
    // Memory held idle for other shapes may be what is missing: give it back, try once more.
    release_idle();
    buf = rt::DeviceBuffer(bytes);
  }
  ++allocations_;
  return buf;
}

void* StreamWorkspacePool::alloc_zeroed(size_t bytes, CUstream stream) {
  const size_t size = rounded(bytes);
  CUstreamCaptureStatus capture = CU_STREAM_CAPTURE_STATUS_NONE;
  TILE_CU_CHECK(cuStreamIsCapturing(stream, &capture));
  if (capture == CU_STREAM_CAPTURE_STATUS_ACTIVE) {
    // The allocation is no work of the captured stream: step out of the capture's "global"
    // mode for it (cuMemAlloc is forbidden there). The zeroing is captured: every replay
    // starts from zeros. No retry on running out of memory: waiting for the context is not
    // allowed during a capture.
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    TILE_CU_CHECK(cuThreadExchangeStreamCaptureMode(&mode));
    rt::DeviceBuffer buf;
    try {
      buf = rt::DeviceBuffer(size);
    } catch (...) {
      rt::driver().cuThreadExchangeStreamCaptureMode(&mode);  // back into the capture's mode
      throw;
    }
    TILE_CU_CHECK(cuThreadExchangeStreamCaptureMode(&mode));
    ++allocations_;
    TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, size, stream));
    void* p = buf.data();
    captured_.insert(p);
    graph_owned_.push_back(std::move(buf));
    return p;
  }
  std::multimap<size_t, rt::DeviceBuffer>& idle = idle_[stream];
  // The smallest idle buffer that fits.
  auto it = idle.lower_bound(size);
  rt::DeviceBuffer buf;
  if (it != idle.end() && fits(it->first, size)) {
    buf = std::move(it->second);
    idle.erase(it);
    ++reuses_;
  } else {
    buf = allocate(size);
  }
  // Zeroed on the stream: a plain cuMemset runs on the legacy default stream, which a
  // non-blocking stream does not wait for, so a kernel could read the memory before it is zero.
  // Only the size asked for: that is all a caller may read.
  TILE_CU_CHECK(cuMemsetD8Async(buf.address(), 0, size, stream));
  void* p = buf.data();
  in_use_.emplace(p, InUse{stream, std::move(buf)});
  return p;
}

void StreamWorkspacePool::free(void* p) {
  if (captured_.count(p)) return;  // the graph keeps it
  auto it = in_use_.find(p);
  if (it == in_use_.end()) return;
  const size_t size = it->second.buffer.size();
  idle_[it->second.stream].emplace(size, std::move(it->second.buffer));
  in_use_.erase(it);
}

void StreamWorkspacePool::release_idle() {
  TILE_CU_CHECK(cuCtxSynchronize());
  idle_.clear();
}

StreamWorkspacePool::Stats StreamWorkspacePool::stats() const {
  Stats s;
  s.allocations = allocations_;
  s.reuses = reuses_;
  s.in_use = in_use_.size();
  for (const auto& [stream, buffers] : idle_) s.idle += buffers.size();
  s.graph_owned = graph_owned_.size();
  return s;
}

}  // namespace tile::attention
