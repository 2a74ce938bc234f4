// Flags of //distributed:qkvpacked_dist_check, parsed and validated before anything runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/cli/flag_error.h"
#include "distributed/ring_schedule.h"
#include "dsl/core/dtype.h"

namespace tile {
namespace dist {

// A bad command line: the message names the flag. The CLI prints it with the usage, exit 2. The
// same type as the flag library's errors, so one catch covers both.
using UsageError = cli::FlagError;

struct DistCheckConfig {
  int nproc_per_node = 0;  // > 0: one process per GPU over NCCL
  int virtual_ranks = 0;   // > 0: threads over the in-process transport
  std::string backend;     // gpu | interp | reference
  RingMode mode = RingMode::ring;
  int64_t batch_size = 1, seq_len = 3816, nheads = 5, nheads_k = 0, head_size = 128;  // nheads_k 0: = nheads
  bool causal = false;
  DType dtype = DType::bf16;
  uint64_t seed = 0;

  int world_size() const { return nproc_per_node > 0 ? nproc_per_node : virtual_ranks; }
  int64_t kv_heads() const { return nheads_k > 0 ? nheads_k : nheads; }
};

const char* dist_check_usage();

// Parses argv[1..]; throws UsageError naming the flag (unknown flag, missing or malformed value,
// conflicting or impossible combination such as a seq_len the ranks cannot split).
DistCheckConfig parse_dist_check_flags(const std::vector<std::string>& args);

}  // namespace dist
}  // namespace tile
