// How a virtual rank's communication is ordered against its compute when both are queued on
// asynchronous streams of one device (virtual ranks on one GPU). The in-process transport then
// moves a message as a copy on the receiver's communication stream, queued by the receiver when
// it posts (so before the compute it posted ahead of: the next block is in flight while the
// current one is computed), after a fence on each side's compute stream: the send buffer was
// written there and the receive buffer last read there. Waiting for the request makes each
// side's compute stream wait for the copy's fence.
// No host thread ever waits for the device on this path; it only meets its peer's thread.
// Host memory needs none of this (the world's ByteCopy moves bytes at the receiver's wait).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace tile {
namespace dist {

class StreamOrder {
 public:
  // A point in a stream's queued work (a CUDA event); opaque to the transport.
  using Fence = std::shared_ptr<const void>;
  // Which message a copy moves (for traces): from rank, to rank, and the ring step it feeds.
  struct CopyInfo {
    int from = 0, to = 0;
    int step = -1;
  };

  virtual ~StreamOrder() = default;

  // A fence after everything queued so far on this rank's compute stream.
  virtual Fence compute_fence() = 0;
  // Queues on this rank's communication stream: wait for every fence of `after`, copy `bytes`
  // from src to dst (memory of this rank's device), and returns a fence after the copy. Called
  // from this rank's thread (the receiver queues its own copies).
  virtual Fence copy_after(void* dst, const void* src, size_t bytes, const std::vector<Fence>& after,
                           const CopyInfo& info) = 0;
  // Makes the work queued next on this rank's compute stream wait for `fence`; the host does not
  // wait. Called from this rank's thread.
  virtual void compute_waits(const Fence& fence) = 0;
};

}  // namespace dist
}  // namespace tile
