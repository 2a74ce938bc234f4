// qkvpacked_dist_check: per-rank accuracy of ring / zigzag / stripe / Ulysses / USP attention
// (dist_check.h), started by itself (--nproc_per_node, --virtual_ranks) or by torchrun / srun.
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "distributed/backend_factory.h"
#include "distributed/check/dist_check.h"
#include "distributed/gpu_probe.h"

int main(int argc, char** argv) {
  using namespace tile::dist;
  DistCheckConfig config;
  std::optional<LaunchEnv> launch;
  try {
    try {
      launch = launch_env_from_process();
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("torchrun / srun environment: ") + e.what());
    }
    config = parse_dist_check_flags(std::vector<std::string>(argv + 1, argv + argc), launch ? &*launch : nullptr);
    std::string why;
    if (!step_backend_available(config.backend, &why)) throw UsageError("--backend: " + why);
    if (config.backend == "gpu") {
      // The ranks may be forked: CUDA must not be initialised here, so a child counts the GPUs.
      const GpuProbe gpus = probe_gpus_in_child();
      // Under torchrun / srun each process needs one GPU: LOCAL_RANK modulo the visible ones.
      const int needed = config.nproc_per_node > 0 ? config.nproc_per_node : 1;
      if (config.launched_world > 0) launch->use_visible_gpus(gpus.count);
      const std::string flag = config.nproc_per_node > 0 ? "--nproc_per_node: " : "--backend: ";
      if (needed > gpus.count)
        throw UsageError(flag + std::to_string(needed) + (needed == 1 ? " GPU needed, " : " ranks need as many GPUs, ") +
                         std::to_string(gpus.count) + " found" + (gpus.why.empty() ? "" : " (" + gpus.why + ")"));
    }
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n" << dist_check_usage();
    return 2;
  }
  try {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int threads_per_rank = static_cast<int>(std::max(1u, cores / static_cast<unsigned>(config.world_size())));
    // One process per GPU: rank r on GPU r (one node), a launched rank on GPU LOCAL_RANK (the
    // factory gets it). Virtual ranks share GPU 0.
    const BackendFactory factory = [&](int rank) {
      StepBackendOptions o;
      o.num_threads = threads_per_rank;
      o.device = config.nproc_per_node > 0 || config.launched_world > 0 ? rank : 0;
      return make_step_backend(config.backend, o);
    };
    if (config.launched_world > 0) return run_launched_rank_check(config, *launch, factory, std::cout);
    if (config.nproc_per_node > 0) return run_process_check(config, factory, std::cout);
    return run_virtual_rank_check(config, factory, std::cout);
  } catch (const std::exception& e) {
    std::cout << "error: " << e.what() << "\nFAIL" << std::endl;
    return 1;
  }
}
