// Who this process is in a launch by torchrun or srun, from their environment variables:
//   torchrun: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
//   srun:     SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID (+ MASTER_ADDR / MASTER_PORT, which a
//             job script exports, as for torchrun under Slurm)
// torchrun's variables win when both are present (torchrun inside an allocation). The NCCL id
// then goes through tcp_rendezvous.h; the built-in launcher (launcher.h) sets TILE_* instead.
//
// Where the rendezvous listens: MASTER_ADDR:MASTER_PORT, except that a recent torchrun's agent
// already serves its own store there (it exports TORCHELASTIC_USE_AGENT_STORE=True), so rank 0
// then listens on MASTER_PORT + 1. That is right wherever global rank 0 runs on MASTER_ADDR's
// node: one-node torchrun, and the static rendezvous (--master_addr = node 0). Elsewhere (c10d
// rendezvous across nodes, whose store host need not hold rank 0) set TILE_RENDEZVOUS_ADDR and
// TILE_RENDEZVOUS_PORT: they override both.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tile {
namespace dist {

struct LaunchEnv {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;  // the GPU of this rank is local_rank
  std::string master_addr;  // the rendezvous endpoint (see above), not necessarily MASTER_*
  int master_port = 0;
  std::string launcher;  // "torchrun" or "srun", for messages
  // The GPU of this rank: LOCAL_RANK modulo the GPUs this process sees (srun with --gpus-per-task
  // shows each task only its own GPU; torchrun shows the node's). Set by use_visible_gpus().
  int device = -1;
  int gpu() const { return device >= 0 ? device : local_rank; }
  void use_visible_gpus(int visible) { device = visible > 0 ? local_rank % visible : local_rank; }
};

using GetEnv = std::function<const char*(const char*)>;

// nullopt when neither launcher's rank variables are set. Throws std::invalid_argument naming the
// variable when one is malformed, out of range, or missing (e.g. RANK without MASTER_PORT).
std::optional<LaunchEnv> launch_env_from(const GetEnv& getenv);
// The same from this process's environment.
std::optional<LaunchEnv> launch_env_from_process();

}  // namespace dist
}  // namespace tile
