// N virtual ranks in one process (one thread each), for running the ring in CI and on one GPU.
// Point-to-point semantics follow NCCL's: the n-th send from rank a to rank b matches the n-th
// receive rank b posted from rank a (in posting order, whatever order requests are waited in).
// Two ways to move a message, chosen per world by whether its ranks have a StreamOrder:
//  - host memory (none): a send's buffer is read by the receiver while it waits — rendezvous,
//    no staging copy — so a sender that reuses its buffer before wait() returns is caught by the
//    tests, as it would corrupt data under NCCL;
//  - device streams (every rank use_stream_order()): the receiver queues the copy on its own
//    communication stream in its post(), ordered by fences (stream_order.h), so before the
//    compute it posted ahead of; a receive whose sender has not posted yet waits there for that
//    post (the host threads meet; nothing waits for the device). wait() only orders the rank's
//    compute stream after the copy, and the next block moves while the current one is computed.
// split() gives each color its own world (own channels, own matching; members keep their stream
// orders), as ncclCommSplit gives a new communicator; aborting a world aborts its sub-groups too.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>

#include "distributed/stream_order.h"
#include "distributed/transport.h"

namespace tile {
namespace dist {

// Copies bytes between two buffers of the world's memory. Host memory: memcpy. Virtual ranks on
// one GPU pass a device-to-device copy (dsl/runtime's copy_device_to_device).
using ByteCopy = std::function<void(void* dst, const void* src, size_t bytes)>;

class InProcessWorld {
 public:
  explicit InProcessWorld(int world_size, ByteCopy copy = default_copy(),
                          std::chrono::milliseconds timeout = std::chrono::minutes(2));
  ~InProcessWorld();
  InProcessWorld(const InProcessWorld&) = delete;
  InProcessWorld& operator=(const InProcessWorld&) = delete;

  int world_size() const;
  // The transport of one rank; owned by the world, valid while it lives. Use each rank's
  // transport from one thread.
  Transport& rank(int r);
  // Makes every current and future wait of every rank throw TransportError(reason): a rank that
  // failed calls this so that its peers stop waiting for it.
  void abort(const std::string& reason);
  // Moves rank r's messages on device streams (see above). Call it before the rank posts or
  // splits (sub-groups made later inherit it); a message between a rank with a stream order and
  // one without fails with TransportError on both sides. Null: host memory again.
  void use_stream_order(int r, std::shared_ptr<StreamOrder> order);

  static ByteCopy default_copy() {
    return [](void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); };
  }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dist
}  // namespace tile
