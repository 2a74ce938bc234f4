// One rank's GPU state: its own attention::GpuBackend (the compute stream and the flash-attn
// API's workspace pool), a stream-ordered pool for the ring's tensors on that stream, and a
// communication stream. Virtual ranks on one GPU each make their own, so they share nothing but
// the device's primary context: no host lock between them, their streams run concurrently and
// are ordered only by CUDA events (gpu_stream_order.h). Nothing here waits for the device except
// the destructor and synchronize().
//
// With a StreamTimeline (--profile) the rank's attention kernels, element-wise kernels, zero-fills
// of new memory and copies are recorded on its lanes "compute" and "comm"; kernels and copies are
// labelled with the ring step being computed (set_step; the step backend sets it around a step's
// attention call). MLIR-free.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "attention/gpu/gpu_backend.h"
#include "attention/gpu/stream_workspace_pool.h"
#include "distributed/stream_timeline.h"
#include "dsl/runtime/stream.h"

namespace tile {
namespace dist {

class GpuRank {
 public:
  // Makes device `ordinal`'s primary context current on the calling thread; `rank` names the
  // trace lanes. Throws rt::DriverUnavailable without a driver or GPU.
  explicit GpuRank(int ordinal, int rank = 0, std::shared_ptr<StreamTimeline> timeline = nullptr);
  // Waits for both streams (queued work may still use the pools), then frees.
  ~GpuRank();
  GpuRank(const GpuRank&) = delete;
  GpuRank& operator=(const GpuRank&) = delete;

  int ordinal() const { return ordinal_; }
  int rank() const { return rank_; }
  rt::Stream& compute_stream() { return gpu_.stream(); }
  rt::Stream& comm_stream() { return comm_; }
  // The flash-attn API's backend, on the compute stream.
  attention::GpuBackend& gpu() { return gpu_; }
  // The same, with every launch recorded on the timeline while it records (the step backend
  // runs the API on this one).
  attention::Backend& timed_gpu() { return *timed_; }

  // Device memory in stream order on the compute stream: free() returns it without waiting,
  // and it is handed out again only to work queued after the free. A buffer also used on the
  // communication stream must be freed only after the compute stream waited for that use (the
  // transport's wait() does). Thread-safe (a tensor may be released on another thread).
  void* alloc(size_t bytes);
  void free(void* p);
  // Waits for both streams.
  void synchronize();

  // The ring step whose work is queued next (-1: none), for the timeline's labels.
  void set_step(int step) { step_ = step; }
  int step() const { return step_; }
  StreamTimeline* timeline() const { return timeline_.get(); }
  // Runs queue() — which queues work on `stream`, one of this rank's — as one span of the
  // timeline while it records; just runs it otherwise. describe() returns the span (called only
  // while recording, so launches pay nothing for names otherwise); the rank and the lane are
  // filled in here: "comm" for communication, else "compute".
  template <typename Describe, typename Queue>
  void timed(rt::Stream& stream, Describe&& describe, Queue&& queue) {
    StreamTimeline* t = timeline_.get();
    if (!t || !t->recording()) {
      queue();
      return;
    }
    TimelineSpan span = describe();
    span.rank = rank_;
    span.stream = span.comm ? "comm" : "compute";
    const long id = t->begin(stream, std::move(span));
    queue();
    t->end(id, stream);
  }

 private:
  int ordinal_, rank_;
  attention::GpuBackend gpu_;
  rt::Stream comm_;
  std::unique_ptr<attention::Backend> timed_;
  std::mutex pool_mu_;
  attention::StreamWorkspacePool pool_;
  std::shared_ptr<StreamTimeline> timeline_;
  std::atomic<int> step_{-1};
};

}  // namespace dist
}  // namespace tile
