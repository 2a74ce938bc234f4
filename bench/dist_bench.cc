#include "bench/dist_bench.h"

#include <fstream>
#include <iostream>
#include <stdexcept>

#include "attention/gpu/gpu_backend.h"
#include "bench/bench_case.h"
#include "bench/case_runner.h"
#include "bench/chrome_trace.h"
#include "bench/dist_table.h"
#include "bench/ring_timer.h"
#include "distributed/launcher.h"
#include "distributed/nccl_transport.h"
#include "dsl/runtime/context.h"

namespace tile::bench {
namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f.good()) throw std::runtime_error("cannot write " + path);
}

// Runs `print` on each rank in rank order, so lines of different ranks never interleave.
template <typename F>
void in_rank_order(dist::Transport& t, F&& print) {
  for (int turn = 0; turn < t.world_size(); ++turn) {
    if (turn == t.rank()) {
      print();
      std::cout << std::flush;
    }
    t.barrier();
  }
}

// "usp (ulysses 2 x zigzag 4)" for USP, the mode otherwise.
std::string mode_label(const BenchFlags& flags) {
  if (flags.mode != "usp") return flags.mode;
  const dist::SequenceLayout l = sequence_layout(flags);
  return "usp (ulysses " + std::to_string(l.ulysses_degree) + " x " + dist::ring_mode_name(l.ring_split) + " " +
         std::to_string(l.ring_degree) + ")";
}

// One rank: nc says who it is (rank, world, device) and how the NCCL id arrives (the launcher's
// file or the torchrun / srun rendezvous).
int run_rank(const BenchFlags& flags, const BenchCase& c, const std::string& out_dir, dist::NcclTransportConfig nc) {
  const struct {
    int rank, world_size, local_rank;
  } env{nc.rank, nc.world_size, nc.device};
  rt::Context::primary(env.local_rank).make_current();
  attention::GpuBackend gpu(env.local_rank);
  // The transport orders its sends and receives against the work on the API's stream.
  nc.compute_stream = gpu.stream().handle();
  dist::NcclTransport transport(nc);

  RunOptions options;
  options.warmup = flags.warmup;
  options.iters = flags.iters;
  options.seed = 1;
  const bool ring = !flags.mode.empty();

  // The ideal, one rank at a time so no other rank's traffic or load is in it.
  double ideal_ms = 0;
  for (int turn = 0; turn < env.world_size; ++turn) {
    if (turn == env.rank) ideal_ms = run_case(gpu, c, options).result.median_ms / (ring ? env.world_size : 1);
    transport.barrier();
  }

  options.profile = flags.profile;
  CaseRun run;
  if (ring) {
    run = time_ring(gpu, env.local_rank, sequence_layout(flags), transport, c, options);
  } else {
    transport.barrier();  // every rank starts together, as under torchrun
    run = run_case(gpu, c, options);
  }
  RankResult row;
  row.rank = env.rank;
  row.world_size = env.world_size;
  row.result = run.result;
  row.ring = ring;
  row.ideal_ms = ideal_ms;

  transport.barrier();
  if (env.rank == 0)
    std::cout << format_dist_title(mode_label(flags), env.world_size, c) << "\n"
              << kDistTableHeader << "\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  in_rank_order(transport, [&] { std::cout << format_dist_row(row) << "\n"; });
  if (env.rank == 0) std::cout << kDistTableIdeal << "\n";
  if (flags.profile) {
    const std::string path = out_dir + "/" + trace_file_name(c, env.rank);
    const std::string what = ring ? flags.mode + " rank " : "rank ";
    write_file(path, chrome_trace_json(run.spans, what + std::to_string(env.rank) + " " + c.describe()));
    in_rank_order(transport, [&] {
      std::cout << "profile rank " << env.rank << " " << c.describe() << " (one iteration"
                << (ring ? ", the flash-attn API's kernels" : "") << ") -> " << path << "\n";
      for (const std::string& line : kernel_summary_lines(run.spans)) std::cout << "  " << line << "\n";
    });
  }
  return 0;
}

}  // namespace

int run_distributed_bench(const BenchFlags& flags, const std::string& out_dir) {
  const BenchCase c = cases_from_flags(flags).front();
  return dist::launch_processes(flags.nproc_per_node, [&](const dist::RankEnv& env) {
    try {
      dist::NcclTransportConfig nc;
      nc.rank = env.rank;
      nc.world_size = env.world_size;
      nc.device = env.local_rank;
      nc.unique_id_file = env.nccl_id_file;
      return run_rank(flags, c, out_dir, nc);
    } catch (const std::exception& e) {
      std::cerr << "flash_attn: rank " << env.rank << ": " << e.what() << std::endl;
      return 1;
    }
  });
}

int run_launched_bench(const BenchFlags& flags, const dist::LaunchEnv& env, const std::string& out_dir) {
  const BenchCase c = cases_from_flags(flags).front();
  dist::NcclTransportConfig nc;
  nc.rank = env.rank;
  nc.world_size = env.world_size;
  nc.device = env.gpu();
  nc.master_addr = env.master_addr;
  nc.master_port = env.master_port;
  try {
    return run_rank(flags, c, out_dir, nc);
  } catch (const std::exception& e) {
    std::cerr << "flash_attn: rank " << env.rank << ": " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace tile::bench
