// Transport over NCCL: one process (or thread) per GPU, one communicator over all ranks.
//
// Posting a batch: the communication stream first waits (an event, no host sync) for the work
// already queued on the compute stream — the send buffers were produced there and the receive
// buffers were last read there — then runs ncclGroupStart / ncclSend / ncclRecv / ncclGroupEnd
// and records a completion event. wait() makes the compute stream wait for that event, so the
// attention of the current block runs while the next one is in flight, and nothing blocks the host.
// The machine's NCCL environment (NCCL_NVLS_ENABLE etc.) is used as it is, never changed.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "distributed/nccl_abi.h"
#include "distributed/stream_timeline.h"
#include "distributed/transport.h"
#include "dsl/runtime/stream.h"

namespace tile {
namespace dist {

struct NcclTransportConfig {
  int rank = 0;
  int world_size = 1;
  int device = 0;              // GPU ordinal of this rank
  // How the NCCL unique id reaches every rank: a file rank 0 publishes (the built-in launcher's
  // temp file), or, when master_port > 0, the TCP rendezvous at master_addr:master_port
  // (torchrun / srun; tcp_rendezvous.h).
  std::string unique_id_file;
  std::string master_addr;
  int master_port = 0;
  std::chrono::milliseconds bootstrap_timeout = std::chrono::minutes(2);
  // The stream the attention steps run on; nullptr means the legacy default stream.
  CUstream compute_stream = nullptr;
  // --profile: each posted group is a span on this rank's "comm" lane (borrowed; may be null).
  StreamTimeline* timeline = nullptr;
};

class NcclTransport : public Transport {
 public:
  // Checks the GPU (dsl/runtime driver), loads libnccl, bootstraps the communicator. Throws
  // rt::DriverUnavailable without a GPU and TransportError without libnccl or on NCCL errors,
  // with messages that say which.
  explicit NcclTransport(const NcclTransportConfig& config);
  ~NcclTransport() override;

  int rank() const override { return config_.rank; }
  int world_size() const override { return config_.world_size; }
  std::string name() const override { return "nccl"; }

  // Buffers are device memory of this rank's GPU.
  std::unique_ptr<CommRequest> post(const std::vector<P2POp>& ops) override;
  void barrier() override;
  void broadcast(void* data, size_t bytes, int root) override;
  void all_gather(const void* send, void* recv, size_t bytes) override;
  // ncclCommSplit (NCCL >= 2.18): the sub-communicator gets its own communication stream and
  // shares this transport's compute stream and device.
  std::unique_ptr<Transport> split(int color, int key) override;

  struct Impl;

 private:
  // A transport over an existing communicator (split()).
  NcclTransport(const NcclTransportConfig& config, ncclComm_t comm);

  NcclTransportConfig config_;
  int lane_rank_;  // the rank the timeline's lanes name: the whole world's, also in a sub-group
  std::unique_ptr<Impl> impl_;
};

// The launcher's environment for one rank: the built-in launcher's TILE_RANK, TILE_WORLD_SIZE,
// TILE_LOCAL_RANK and TILE_NCCL_ID_FILE, else torchrun's / srun's (launch_env.h: rank, world,
// device = LOCAL_RANK, the rendezvous at MASTER_ADDR:MASTER_PORT). Returns false (and leaves
// config alone) when neither is set; throws std::invalid_argument naming a malformed variable.
bool nccl_config_from_environment(NcclTransportConfig* config);

}  // namespace dist
}  // namespace tile
