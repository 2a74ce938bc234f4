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
  // The ring step whose compute needs this message (-1: none). Only traces read it: they label
  // a transfer with the step it feeds, so its overlap with the step before can be checked.
  int step = -1;

  static P2POp send(const void* data, size_t bytes, int peer, int step = -1) {
    return {Kind::send, const_cast<void*>(data), bytes, peer, step};
  }
  static P2POp recv(void* data, size_t bytes, int peer, int step = -1) {
    return {Kind::recv, data, bytes, peer, step};
  }
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

  // send and recv hold world_size() blocks of bytes_per_rank each: block p of send goes to rank
  // p, block p of recv comes from rank p (this rank's own block is copied). Returns as wait()
  // does. The default is one posted group of send/recv pairs (NCCL's all-to-all recipe, and
  // plain copies in process); buffers must not overlap.
  virtual void all_to_all(const void* send, void* recv, size_t bytes_per_rank);

  // A sub-group, collectively (every rank of this transport calls it, in the same order with
  // its other collectives): ranks passing the same color >= 0 form one group, ordered by key
  // then by rank here (MPI_Comm_split / ncclCommSplit). A negative color joins no group and
  // gets nullptr. Messages of the sub-group never match messages of this transport. The default
  // throws TransportError: the transport has no sub-groups.
  virtual std::unique_ptr<Transport> split(int color, int key);

  int next_rank() const { return (rank() + 1) % world_size(); }
  int prev_rank() const { return (rank() + world_size() - 1) % world_size(); }
};

inline void Transport::all_to_all(const void* send, void* recv, size_t bytes_per_rank) {
  std::vector<P2POp> ops;
  const char* in = static_cast<const char*>(send);
  char* out = static_cast<char*>(recv);
  for (int p = 0; p < world_size(); ++p) {
    const size_t at = static_cast<size_t>(p) * bytes_per_rank;
    ops.push_back(P2POp::send(in + at, bytes_per_rank, p));
    ops.push_back(P2POp::recv(out + at, bytes_per_rank, p));
  }
  post(ops)->wait();
}

inline std::unique_ptr<Transport> Transport::split(int, int) {
  throw TransportError(name() + " transport: sub-groups (split) are not supported");
}

}  // namespace dist
}  // namespace tile
