// N virtual ranks in one process (one thread each), for running the ring in CI and on one GPU.
// Point-to-point semantics follow NCCL's: the n-th send from rank a to rank b matches the n-th
// receive rank b posted from rank a (in posting order, whatever order requests are waited in), and
// a send's buffer is read by the receiver while it waits — rendezvous, no staging copy — so a
// sender that reuses its buffer before wait() returns is caught by the tests, as it would corrupt
// data under NCCL. split() gives each color its own world (own channels, own matching), as
// ncclCommSplit gives a new communicator; aborting a world aborts its sub-groups too.
#pragma once

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>

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

  static ByteCopy default_copy() {
    return [](void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); };
  }

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace dist
}  // namespace tile
