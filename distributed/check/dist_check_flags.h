// Flags of //distributed:qkvpacked_dist_check, parsed and validated before anything runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli/flag_error.h"
#include "distributed/launch_env.h"
#include "distributed/ring_schedule.h"
#include "distributed/sequence_split.h"
#include "dsl/core/dtype.h"

namespace tile {
namespace dist {

// A bad command line: the message names the flag. The CLI prints it with the usage, exit 2. The
// same type as the flag library's errors, so one catch covers both.
using UsageError = cli::FlagError;

// --mode: the ring alone (ring / zigzag / stripe split), Ulysses alone, or USP (both).
enum class ParallelMode { ring, ulysses, usp };

struct DistCheckConfig {
  int nproc_per_node = 0;  // > 0: one process per GPU over NCCL
  int virtual_ranks = 0;   // > 0: threads over the in-process transport
  int launched_world = 0;  // > 0: this process is one rank of a torchrun / srun launch of that size
  std::string backend;     // gpu | interp | reference
  ParallelMode parallel = ParallelMode::ring;
  RingMode mode = RingMode::ring;  // the ring's split (ring / zigzag / stripe; usp: --ring_split)
  int ulysses_degree = 1;          // ulysses: the world; usp: --ulysses_degree
  int64_t batch_size = 1, seq_len = 3816, nheads = 5, nheads_k = 0, head_size = 128;  // nheads_k 0: = nheads
  bool causal = false;
  DType dtype = DType::bf16;
  uint64_t seed = 0;
  std::string variant;  // a registered attention variant (or chain "a+b"); empty: plain attention

  int world_size() const {
    return nproc_per_node > 0 ? nproc_per_node : virtual_ranks > 0 ? virtual_ranks : launched_world;
  }
  int64_t kv_heads() const { return nheads_k > 0 ? nheads_k : nheads; }
  int ring_degree() const { return world_size() / ulysses_degree; }
  SequenceLayout layout() const { return {mode, ring_degree(), ulysses_degree}; }
  // "ring", "zigzag", "stripe", "ulysses" or "usp".
  std::string mode_name() const;
};

const char* dist_check_usage();

// Parses argv[1..]; throws UsageError naming the flag (unknown flag, missing or malformed value,
// conflicting or impossible combination such as a seq_len the ranks cannot split). `launch` is
// the torchrun / srun environment, if any: without --nproc_per_node and --virtual_ranks the
// process is then one of launch->world_size ranks on the gpu backend.
DistCheckConfig parse_dist_check_flags(const std::vector<std::string>& args, const LaunchEnv* launch = nullptr);

}  // namespace dist
}  // namespace tile
