// --nproc_per_node N: one process per GPU (distributed/launcher.h), NCCL between them. Each rank
// first times its ideal alone (the other ranks wait at a barrier), then every rank runs at once:
// the whole case on its own GPU (no --mode) or sequence parallel over seq_len (--mode ring|zigzag|
// stripe|ulysses|usp). Rank 0
// prints the table's title and header, then each rank its row, in rank order; with --profile each
// rank writes its own trace (rank_R in the file name) and prints its kernel lines.
#pragma once

#include <string>

#include "bench/bench_flags.h"

namespace tile::bench {

// Returns the launch's exit code: 0 when every rank ran, else the first failing rank's code.
// `out_dir` is where traces go (already resolved against the caller's directory).
int run_distributed_bench(const BenchFlags& flags, const std::string& out_dir);

// The same for one rank started by torchrun / srun (no fork): GPU env.gpu(), the NCCL id
// over the TCP rendezvous at MASTER_ADDR:MASTER_PORT. Returns this rank's exit code.
int run_launched_bench(const BenchFlags& flags, const dist::LaunchEnv& env, const std::string& out_dir);

}  // namespace tile::bench
