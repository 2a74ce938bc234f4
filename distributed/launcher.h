// Starting the ranks of one node.
//  - launch_processes: one child process per rank (fork; the body runs in the child), each with
//    TILE_RANK / TILE_WORLD_SIZE / TILE_LOCAL_RANK / TILE_NCCL_ID_FILE in its environment; the
//    NCCL unique id travels through that file (nccl_transport.h). NCCL_* variables are inherited
//    untouched. The first failing rank's exit code is returned and the other ranks are stopped,
//    since they would wait forever for the failed peer.
//  - run_virtual_ranks: one thread per rank over an InProcessWorld.
// Multi-node (and torchrun / srun) launches do not use this file: their ranks read RANK,
// WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (launch_env.h) and get the NCCL id over TCP
// (tcp_rendezvous.h).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "distributed/in_process_transport.h"

namespace tile {
namespace dist {

struct RankEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string nccl_id_file;
};

struct LaunchOptions {
  // Where the id file goes: a fresh directory made under it and removed afterwards.
  std::string temp_root = "/tmp";
  // 0: no limit; else ranks still running after it are stopped and the launch fails (exit 124).
  std::chrono::seconds timeout{0};
};

// Runs body(rank env) in `nproc` forked processes and returns the launch's exit code: 0 when
// every rank returned 0, otherwise the first failure's code (128 + signal for a signalled rank).
// Call it before the parent starts threads or touches the GPU (fork keeps only the calling thread).
int launch_processes(int nproc, const std::function<int(const RankEnv&)>& body, const LaunchOptions& options = {});

// Runs body(rank, transport) on one thread per rank. When a rank throws, the world is aborted
// (its peers' waits throw too) and the first rank's exception — the cause, not the aborts it
// triggered — is rethrown after every thread joined.
void run_virtual_ranks(InProcessWorld& world, const std::function<void(int rank, Transport& transport)>& body);

}  // namespace dist
}  // namespace tile
