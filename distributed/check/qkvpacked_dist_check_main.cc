// qkvpacked_dist_check: per-rank accuracy of ring / zigzag attention (dist_check.h).
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "distributed/backend_factory.h"
#include "distributed/check/dist_check.h"
#include "distributed/gpu_probe.h"

int main(int argc, char** argv) {
  using namespace tile::dist;
  DistCheckConfig config;
  try {
    config = parse_dist_check_flags(std::vector<std::string>(argv + 1, argv + argc));
    std::string why;
    if (!step_backend_available(config.backend, &why)) throw UsageError("--backend: " + why);
    if (config.nproc_per_node > 0) {
      // The ranks are forked: CUDA must not be initialised here, so a child counts the GPUs.
      const GpuProbe gpus = probe_gpus_in_child();
      if (config.nproc_per_node > gpus.count)
        throw UsageError("--nproc_per_node: " + std::to_string(config.nproc_per_node) + " ranks need as many GPUs, " +
                         std::to_string(gpus.count) + " found" + (gpus.why.empty() ? "" : " (" + gpus.why + ")"));
    }
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n" << dist_check_usage();
    return 2;
  }
  try {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int threads_per_rank = static_cast<int>(std::max(1u, cores / static_cast<unsigned>(config.world_size())));
    const BackendFactory factory = [&](int /*rank*/) { return make_step_backend(config.backend, threads_per_rank); };
    if (config.nproc_per_node > 0) return run_process_check(config, factory, std::cout);
    return run_virtual_rank_check(config, factory, std::cout);
  } catch (const std::exception& e) {
    std::cout << "error: " << e.what() << "\nFAIL" << std::endl;
    return 1;
  }
}
