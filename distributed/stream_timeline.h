// GPU work on named lanes, one per (rank, stream), timed with CUDA events recorded on the
// work's own stream just before and just after it — what --profile writes as a Chrome trace
// where communication can be seen overlapping compute. One timeline may be shared by the
// virtual ranks of one GPU (one origin, so their lanes line up); it is thread-safe, since each
// rank records from its own thread. MLIR-free.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dsl/runtime/stream.h"

namespace tile {
namespace dist {

struct TimelineSpan {
  std::string name;    // "attn_fwd", "copy_f32", "k/v from rank 1", ...
  std::string detail;  // the compiled instance, or the bytes moved
  int rank = 0;
  std::string stream;  // the lane within the rank: "compute" or "comm"
  bool comm = false;   // communication (copies between ranks, NCCL) rather than compute
  int step = -1;       // the ring step the work belongs to; -1: none
  std::array<int, 3> grid{1, 1, 1};      // kernels: their grid
  double start_us = 0, duration_us = 0;  // from the origin
};

class StreamTimeline {
 public:
  // Records the origin on `stream` and starts recording: spans begun from now on are timed
  // from it (work queued before it on another stream may start earlier: negative times).
  void start(rt::Stream& stream);
  bool recording() const;

  // Brackets one piece of work queued on `stream` between begin() and end(); does nothing (and
  // returns -1) when not recording.
  long begin(rt::Stream& stream, TimelineSpan span);
  void end(long id, rt::Stream& stream);

  // Stops recording, waits for every span's events and returns the spans in begin order.
  std::vector<TimelineSpan> finish();

 private:
  struct Pending {
    TimelineSpan span;
    std::unique_ptr<rt::Event> before, after;
  };
  mutable std::mutex mu_;
  std::atomic<bool> recording_{false};  // read without the lock: launches outside a recording stay cheap
  std::unique_ptr<rt::Event> origin_;
  std::vector<Pending> pending_;
};

}  // namespace dist
}  // namespace tile
