#include "distributed/launch_env.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace tile {
namespace dist {
namespace {

int parse_int(const GetEnv& getenv, const char* name, int min, int max) {
  const char* text = getenv(name);
  if (text == nullptr || *text == '\0') throw std::invalid_argument(std::string(name) + ": not set (needed for this launch)");
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || errno != 0 || v < min || v > max)
    throw std::invalid_argument(std::string(name) + ": expected an integer in " + std::to_string(min) + ".." +
                                std::to_string(max) + ", got '" + text + "'");
  return static_cast<int>(v);
}

int parse_int_or(const GetEnv& getenv, const char* name, int min, int max, int fallback) {
  const char* text = getenv(name);
  return text == nullptr || *text == '\0' ? fallback : parse_int(getenv, name, min, max);
}

}  // namespace

std::optional<LaunchEnv> launch_env_from(const GetEnv& getenv) {
  const bool torchrun = getenv("RANK") != nullptr || getenv("WORLD_SIZE") != nullptr;
  const bool srun = getenv("SLURM_PROCID") != nullptr && getenv("SLURM_NTASKS") != nullptr;
  if (!torchrun && !srun) return std::nullopt;
  LaunchEnv e;
  e.launcher = torchrun ? "torchrun" : "srun";
  const char* world_var = torchrun ? "WORLD_SIZE" : "SLURM_NTASKS";
  e.world_size = parse_int(getenv, world_var, 1, 1 << 20);
  e.rank = parse_int(getenv, torchrun ? "RANK" : "SLURM_PROCID", 0, e.world_size - 1);
  e.local_rank = parse_int_or(getenv, torchrun ? "LOCAL_RANK" : "SLURM_LOCALID", 0, e.world_size - 1, e.rank);
  e.local_world_size = parse_int_or(getenv, "LOCAL_WORLD_SIZE", 1, e.world_size, e.world_size);
  if (e.local_rank >= e.local_world_size && getenv("LOCAL_WORLD_SIZE") != nullptr)
    throw std::invalid_argument("LOCAL_RANK: " + std::to_string(e.local_rank) + " outside LOCAL_WORLD_SIZE " +
                                std::to_string(e.local_world_size));
  if (e.world_size == 1) return e;  // nobody to exchange the NCCL id with
  const char* own_addr = getenv("TILE_RENDEZVOUS_ADDR");
  const char* addr = own_addr != nullptr && *own_addr != '\0' ? own_addr : getenv("MASTER_ADDR");
  e.master_addr = addr ? addr : "";
  if (e.master_addr.empty())
    throw std::invalid_argument(std::string("MASTER_ADDR: not set (") + e.launcher +
                                " launch: the host of rank 0, where the NCCL id is served)");
  const char* own_port = getenv("TILE_RENDEZVOUS_PORT");
  if (own_port != nullptr && *own_port != '\0') {
    e.master_port = parse_int(getenv, "TILE_RENDEZVOUS_PORT", 1, 65535);
  } else {
    e.master_port = parse_int(getenv, "MASTER_PORT", 1, 65535);
    const char* agent_store = getenv("TORCHELASTIC_USE_AGENT_STORE");
    if (agent_store != nullptr && (std::string(agent_store) == "True" || std::string(agent_store) == "1")) {
      // torchrun's agent listens on MASTER_PORT itself.
      if (e.master_port == 65535)
        throw std::invalid_argument("MASTER_PORT: 65535 leaves no next port for the NCCL id rendezvous "
                                    "(torchrun's agent serves MASTER_PORT); set TILE_RENDEZVOUS_PORT");
      e.master_port += 1;
    }
  }
  return e;
}

std::optional<LaunchEnv> launch_env_from_process() {
  return launch_env_from([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

}  // namespace dist
}  // namespace tile
