// The distributed benchmark, three ways to get the ranks:
//  - --nproc_per_node N: one process per GPU (distributed/launcher.h), NCCL between them;
//  - torchrun / srun: this process is one of them;
//  - --virtual_ranks N: N threads on GPU 0, the in-process transport; each rank has its own
//    streams (distributed/gpu_rank.h) and its blocks move as copies on its copy stream.
// Each rank first times its ideal alone (the other ranks wait at a barrier), then every rank runs
// at once: the whole case on its own GPU (no --mode) or sequence parallel over seq_len (--mode
// ring|zigzag|stripe|ulysses|usp). Rank 0 prints the table's title and header, then each rank its
// row, in rank order. With --profile one more iteration is traced with a lane per rank and
// stream ("compute", "comm"): under NCCL each rank writes its own trace (rank_R in the file
// name), with virtual ranks one trace holds every rank, and the comm/compute overlap of each
// rank is printed (bench/trace_overlap.h).
#pragma once

#include <string>
#include <vector>

#include "bench/bench_flags.h"
#include "bench/chrome_trace.h"
#include "bench/dist_table.h"

namespace tile::bench {

// Returns the launch's exit code: 0 when every rank ran, else the first failing rank's code.
// `out_dir` is where traces go (already resolved against the caller's directory).
int run_distributed_bench(const BenchFlags& flags, const std::string& out_dir);

// The same for one rank started by torchrun / srun (no fork): GPU env.gpu(), the NCCL id
// over the TCP rendezvous at MASTER_ADDR:MASTER_PORT. Returns this rank's exit code.
int run_launched_bench(const BenchFlags& flags, const dist::LaunchEnv& env, const std::string& out_dir);

// --virtual_ranks: what it measures, without printing — every rank's row, in rank order, and
// with flags.profile every rank's spans on one timeline. Throws what a rank threw.
struct VirtualRun {
  std::vector<RankResult> rows;
  std::vector<KernelSpan> spans;
};
VirtualRun time_virtual_ranks(const BenchFlags& flags);

// --virtual_ranks: the table, and with --profile the trace file and the overlap lines. Returns 0,
// or 1 (with the error on stderr) when a rank failed.
int run_virtual_bench(const BenchFlags& flags, const std::string& out_dir);

// "..._virtual_ranks_4_fwd_only_False.json": the trace of a --virtual_ranks run.
std::string virtual_trace_file_name(const BenchCase& c, int virtual_ranks);

}  // namespace tile::bench
