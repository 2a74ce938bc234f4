// Moving buffers between ranks. The ring posts a batch of point-to-point operations (send this
// rank's block to the next rank, receive the previous rank's block) and waits for it later, after
// computing on the current block: whatever the transport does in between overlaps the compute.
//
// Buffers are raw, contiguous bytes on the transport's device (host memory for the in-process
// transport on the CPU, device memory for NCCL). A posted send buffer must not be written, and a
// posted receive buffer neither read nor written, until its request was waited for.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tile {
namespace dist {

// A transport failed (a peer aborted, a library call failed, a timeout).
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct P2POp {
  enum class Kind { send, recv };
  Kind kind = Kind::send;
  void* data = nullptr;  // const for sends
  size_t bytes = 0;
  int peer = 0;

  static P2POp send(const void* data, size_t bytes, int peer) {
    return {Kind::send, const_cast<void*>(data), bytes, peer};
  }
  static P2POp recv(void* data, size_t bytes, int peer) { return {Kind::recv, data, bytes, peer}; }
};

// A posted batch. wait() returns when every operation of the batch completed, as far as the
// caller's subsequent work is concerned: for a GPU transport that means "ordered before the work
// the caller queues next on its compute stream", not necessarily "finished on the host".
class CommRequest {
 public:
  virtual ~CommRequest() = default;
  virtual void wait() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual std::string name() const = 0;

  // Posts the operations as one group (sends and receives of a group never deadlock each other,
  // whatever order the peers post them in). Messages between two ranks arrive in posting order.
  virtual std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) = 0;

  // Collectives for setup and tests (not on the ring's hot path). Buffers as for post().
  virtual void barrier() = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // recv holds world_size() * bytes: rank r's send lands at recv + r * bytes.
  virtual void all_gather(const void* send, void* recv, size_t bytes) = 0;

  int next_rank() const { return (rank() + 1) % world_size(); }
  int prev_rank() const { return (rank() + world_size() - 1) % world_size(); }
};

}  // namespace dist
}  // namespace tile
