// The NCCL unique id (an opaque 128-byte blob) from rank 0 to every rank over TCP, for launches
// by torchrun or srun, where ranks share no temporary file and may sit on different nodes.
//
// Rank 0 listens on MASTER_PORT (every interface, like torchrun's store) and waits for the other
// world_size - 1 ranks; each connects to MASTER_ADDR:MASTER_PORT (retrying while rank 0 is not up
// yet), says who it is, receives the blob and acknowledges it. Everything has one deadline:
// a rank that never comes, a peer that dies mid-exchange or a wrong world size is a
// TransportError naming the ranks, the address and what happened — never a hang.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace tile {
namespace dist {

struct RendezvousConfig {
  std::string master_addr;  // host name or address of rank 0
  int master_port = 0;      // 1..65535
  int rank = 0, world_size = 1;
  std::chrono::milliseconds timeout = std::chrono::minutes(2);
};

// Rank 0 passes the blob and gets it back; the others pass an empty vector and get rank 0's.
// blob_bytes is the size every rank expects (the check that all ranks speak of the same thing).
// Throws std::invalid_argument for a bad config (naming the field) and TransportError on failure.
std::vector<char> exchange_blob(const RendezvousConfig& config, const std::vector<char>& blob, size_t blob_bytes);

}  // namespace dist
}  // namespace tile
