#include "bench/dist_bench.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "bench/bench_case.h"
#include "bench/case_runner.h"
#include "bench/ring_timer.h"
#include "bench/trace_overlap.h"
#include "distributed/gpu_stream_order.h"
#include "distributed/in_process_transport.h"
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

struct RankRun {
  RankResult row;
  std::vector<KernelSpan> spans;  // with --profile, from the rank that starts the timeline
};

// One rank with its GPU state and transport: its ideal (the ranks one at a time, so no other
// rank's traffic or load is in it), then the case or the sequence-parallel run with every rank.
RankRun measure_rank(const BenchFlags& flags, const BenchCase& c, const std::shared_ptr<dist::GpuRank>& gpu,
                     dist::Transport& transport, bool starts_timeline) {
  RunOptions options;
  options.warmup = flags.warmup;
  options.iters = flags.iters;
  options.seed = 1;
  const bool ring = !flags.mode.empty();
  const int world = transport.world_size();

  double ideal_ms = 0;
  for (int turn = 0; turn < world; ++turn) {
    if (turn == transport.rank()) ideal_ms = run_case(gpu->gpu(), c, options).result.median_ms / (ring ? world : 1);
    transport.barrier();
  }

  options.profile = flags.profile;
  CaseRun run;
  if (ring) {
    run = time_ring(gpu, sequence_layout(flags), transport, c, options, starts_timeline);
  } else {
    transport.barrier();  // every rank starts together, as under torchrun
    run = run_case(gpu->gpu(), c, options);
  }
  RankRun r;
  r.row.rank = transport.rank();
  r.row.world_size = world;
  r.row.result = run.result;
  r.row.ring = ring;
  r.row.ideal_ms = ideal_ms;
  r.spans = std::move(run.spans);
  return r;
}

// One rank over NCCL: nc says who it is (rank, world, device) and how the NCCL id arrives (the
// launcher's file or the torchrun / srun rendezvous).
int run_rank(const BenchFlags& flags, const BenchCase& c, const std::string& out_dir, dist::NcclTransportConfig nc) {
  rt::Context::primary(nc.device).make_current();
  // Each process its own timeline: its compute lane and its NCCL lane.
  auto timeline = flags.profile ? std::make_shared<dist::StreamTimeline>() : nullptr;
  auto gpu = std::make_shared<dist::GpuRank>(nc.device, nc.rank, timeline);
  // The transport orders its sends and receives against the work on the rank's compute stream.
  nc.compute_stream = gpu->compute_stream().handle();
  nc.timeline = timeline.get();
  dist::NcclTransport transport(nc);
  const bool ring = !flags.mode.empty();
  // Without --mode run_case traces the one GPU's launches itself.
  const RankRun r = measure_rank(flags, c, gpu, transport, /*starts_timeline=*/true);

  transport.barrier();
  if (nc.rank == 0)
    std::cout << format_dist_title(mode_label(flags), nc.world_size, c) << "\n"
              << kDistTableHeader << "\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  in_rank_order(transport, [&] { std::cout << format_dist_row(r.row) << "\n"; });
  if (nc.rank == 0) std::cout << kDistTableIdeal << "\n";
  if (flags.profile) {
    const std::string path = out_dir + "/" + trace_file_name(c, nc.rank);
    const std::string what = ring ? flags.mode + " rank " : "rank ";
    write_file(path, chrome_trace_json(r.spans, what + std::to_string(nc.rank) + " " + c.describe()));
    in_rank_order(transport, [&] {
      std::cout << "profile rank " << nc.rank << " " << c.describe() << " (one iteration"
                << (ring ? ", lanes compute and comm" : "") << ") -> " << path << "\n";
      for (const std::string& line : kernel_summary_lines(r.spans)) std::cout << "  " << line << "\n";
      for (const std::string& line : overlap_summary_lines(r.spans)) std::cout << "  overlap " << line << "\n";
      for (const std::string& line : miss_summary_lines(r.spans)) std::cout << "  missed " << line << "\n";
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

VirtualRun time_virtual_ranks(const BenchFlags& flags) {
  if (flags.virtual_ranks < 1 || flags.mode.empty())
    throw std::invalid_argument("time_virtual_ranks: needs --virtual_ranks N and a --mode");
  const BenchCase c = cases_from_flags(flags).front();
  const int world = flags.virtual_ranks;
  // One timeline for every rank: one origin, so their lanes line up in one trace.
  auto timeline = flags.profile ? std::make_shared<dist::StreamTimeline>() : nullptr;
  dist::InProcessWorld transports(world);
  VirtualRun out;
  out.rows.resize(size_t(world));
  dist::run_virtual_ranks(transports, [&](int rank, dist::Transport& t) {
    auto gpu = std::make_shared<dist::GpuRank>(0, rank, timeline);
    // Before the rank posts anything: its messages are copies on its copy stream.
    transports.use_stream_order(rank, std::make_shared<dist::GpuStreamOrder>(gpu));
    RankRun r = measure_rank(flags, c, gpu, t, /*starts_timeline=*/rank == 0);
    out.rows[size_t(rank)] = r.row;
    if (rank == 0) out.spans = std::move(r.spans);
  });
  return out;
}

std::string virtual_trace_file_name(const BenchCase& c, int virtual_ranks) {
  std::string name = trace_file_name(c, 0);
  const std::string rank0 = "_rank_0_";
  name.replace(name.find(rank0), rank0.size(), "_virtual_ranks_" + std::to_string(virtual_ranks) + "_");
  return name;
}

int run_virtual_bench(const BenchFlags& flags, const std::string& out_dir) {
  const BenchCase c = cases_from_flags(flags).front();
  VirtualRun run;
  try {
    run = time_virtual_ranks(flags);
  } catch (const std::exception& e) {
    std::cerr << "flash_attn: " << e.what() << std::endl;
    return 1;
  }
  std::cout << format_dist_table(mode_label(flags), run.rows, "virtual ranks on GPU 0, in-process");
  if (flags.profile) {
    const std::string path = out_dir + "/" + virtual_trace_file_name(c, flags.virtual_ranks);
    write_file(path, chrome_trace_json(run.spans, flags.mode + " " + c.describe()));
    std::cout << "profile " << c.describe() << " (one iteration, lanes compute and comm of every rank) -> " << path
              << "\n";
    for (const std::string& line : kernel_summary_lines(run.spans)) std::cout << "  " << line << "\n";
    for (const std::string& line : overlap_summary_lines(run.spans)) std::cout << "  overlap " << line << "\n";
    for (const std::string& line : miss_summary_lines(run.spans)) std::cout << "  missed " << line << "\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace tile::bench
