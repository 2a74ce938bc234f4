// Device workspace of the host API's calls (dQ accumulator, delta, ...), reused in stream order
// as PyTorch's caching allocator does: a buffer freed by a call goes back to the pool of the
// stream it was allocated on and is handed out again only on that stream, where everything
// queued before its reuse (the work that used it) runs first, so neither free() nor reuse
// waits for the GPU. After the first call of a shape there is no device allocation. Like a
// torch tensor, a buffer used on another stream than its own must not be freed before that
// stream's work is done (the host API uses its workspace on one stream).
//
// Capture-aware: a buffer allocated while its stream is being captured into a CUDA graph is
// owned by the graph (its replays use it whenever they run), so it never goes back to a pool;
// it lives as long as the pool does. MLIR-free.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <vector>

#include "dsl/runtime/cuda_driver.h"
#include "dsl/runtime/memory.h"

namespace tile::attention {

class StreamWorkspacePool {
 public:
  StreamWorkspacePool() = default;
  // Frees every buffer: the owner makes sure no queued work still uses one.
  ~StreamWorkspacePool() = default;
  StreamWorkspacePool(const StreamWorkspacePool&) = delete;
  StreamWorkspacePool& operator=(const StreamWorkspacePool&) = delete;

  // At least `bytes` (rounded up to 4, at least 4) in the current context, zero-filled on
  // `stream` (kernels queued after it on `stream` see zeros). Allocates only when no idle
  // buffer of `stream` fits; during a capture of `stream` always (the graph keeps it), stepping
  // out of the capture's global mode for the allocation, with the zeroing captured.
  void* alloc_zeroed(size_t bytes, CUstream stream);
  // Returns `p` to its stream's pool without waiting; a graph's buffer or an unknown pointer is
  // left alone.
  void free(void* p);
  // Frees the idle buffers (torch.cuda.empty_cache): waits for the context's work first, as
  // queued work may still use one. Also done once, by itself, when an allocation runs out of
  // memory.
  void release_idle();

  struct Stats {
    size_t allocations = 0;  // device allocations made so far (cuMemAlloc calls)
    size_t reuses = 0;       // allocations served from an idle buffer
    size_t in_use = 0, idle = 0, graph_owned = 0;  // buffers now
  };
  Stats stats() const;

  // The reuse rule: an idle buffer of `idle_bytes` serves a request of `bytes` (both rounded)
  // when it fits and is at most twice as large (so a small request cannot pin a large buffer).
  static bool fits(size_t idle_bytes, size_t bytes) { return idle_bytes >= bytes && idle_bytes <= 2 * bytes; }
  static size_t rounded(size_t bytes) { return bytes ? (bytes + 3) / 4 * 4 : 4; }

 private:
  rt::DeviceBuffer allocate(size_t bytes);
  struct InUse {
    CUstream stream;
    rt::DeviceBuffer buffer;
  };
  std::map<void*, InUse> in_use_;
  std::map<CUstream, std::multimap<size_t, rt::DeviceBuffer>> idle_;  // per stream, by size
  std::vector<rt::DeviceBuffer> graph_owned_;
  std::set<void*> captured_;
  size_t allocations_ = 0, reuses_ = 0;
};

}  // namespace tile::attention
