// bazel run //bench:flash_attn -- --batch_size 2 --seq_len 4096 --nheads 16 --head_size 128
//     [--fwd_only] [--causal] [--profile] [--dtype bf16] ... | --sweep seed
// flash-attn's benchmark on this project's kernels: one table row per case (see --help).
// Flags are checked before the GPU is touched; exit 2 names a bad flag, exit 1 means no GPU or
// a failed case.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "bench/bench_case.h"
#include "bench/bench_flags.h"
#include "bench/case_runner.h"
#include "bench/chrome_trace.h"
#include "bench/dist_bench.h"
#include "bench/results_table.h"
#include "bench/sweep_chart.h"
#include "dsl/runtime/context.h"
#include "dsl/runtime/cuda_driver.h"
#include "distributed/gpu_probe.h"

using namespace tile;
using namespace tile::bench;

namespace {

// `bazel run` starts the binary in its runfiles tree; relative output paths mean the caller's
// directory, which bazel passes in BUILD_WORKING_DIRECTORY.
std::string caller_path(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || !cwd || !*cwd) return path;
  return std::string(cwd) + "/" + path;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f.good()) throw std::runtime_error("cannot write " + path);
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Prints the rows measured so far (a failed sweep still shows them), the cases that were refused,
// and writes the JSON.
void report(const std::vector<CaseResult>& results, const std::vector<std::string>& not_measured,
            const BenchFlags& flags, const std::string& device) {
  if (!results.empty()) std::cout << format_markdown_table(results);
  // The backward alone (2.5x the forward's FLOPs), below flash-attn's table.
  if (std::string bwd = format_backward_table(results); !bwd.empty()) std::cout << "\nbackward alone\n" << bwd;
  for (const std::string& line : not_measured) std::cout << "not measured: " << line << "\n";
  std::cout << std::flush;
  if (!flags.json_path.empty())
    write_file(caller_path(flags.json_path), format_results_json(results, device, utc_now(), not_measured));
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<dist::LaunchEnv> launch;
  try {
    launch = dist::launch_env_from_process();
  } catch (const std::invalid_argument& e) {
    std::cerr << "flash_attn: error: torchrun / srun environment: " << e.what() << "\n";
    return 2;
  }
  ParseResult parsed = parse_bench_flags(std::vector<std::string>(argv + 1, argv + argc), launch ? &*launch : nullptr);
  if (!parsed.ok) {
    std::cerr << "flash_attn: error: " << parsed.error << "\n(run with --help for the flags)\n";
    return 2;
  }
  const BenchFlags& flags = parsed.flags;
  if (flags.help) {
    std::cout << usage_text();
    return 0;
  }
  const std::vector<BenchCase> cases = cases_from_flags(flags);

  if (flags.launched_world > 0) {
    // Started by torchrun / srun: this process is one rank, on GPU LOCAL_RANK (no fork here).
    std::string why;
    if (!rt::driver_available(&why) || rt::device_count() == 0) {
      std::cerr << "flash_attn: no GPU for rank " << launch->rank << " (" << (why.empty() ? "no CUDA device" : why)
                << ")\n";
      return 1;
    }
    launch->use_visible_gpus(rt::device_count());
    return run_launched_bench(flags, *launch, caller_path(flags.out_dir));
  }
  if (flags.nproc_per_node > 0) {
    // The ranks are forked processes, and CUDA does not survive a fork after cuInit: the GPUs are
    // counted in a short-lived child, so this process never initialises the driver itself.
    const dist::GpuProbe probe = dist::probe_gpus_in_child();
    if (probe.count == 0) {
      std::cerr << "flash_attn: no GPU: this benchmark needs an NVIDIA GPU ("
                << (probe.why.empty() ? "no CUDA device" : probe.why) << ")\n";
      return 1;
    }
    if (flags.nproc_per_node > probe.count) {
      std::cerr << "flash_attn: error: --nproc_per_node: " << flags.nproc_per_node << " ranks need as many GPUs, this "
                << "machine has " << probe.count << "\n";
      return 2;
    }
    return run_distributed_bench(flags, caller_path(flags.out_dir)) == 0 ? 0 : 1;
  }

  std::string why;
  if (!rt::driver_available(&why) || rt::device_count() == 0) {
    std::cerr << "flash_attn: no GPU: this benchmark needs an NVIDIA GPU (" << (why.empty() ? "no CUDA device" : why)
              << "); without one, bazel run //tests:accuracy checks the kernels on the CPU interpreter\n";
    return 1;
  }
  // Threads on GPU 0, no fork: the driver may be initialised here.
  if (flags.virtual_ranks > 0) return run_virtual_bench(flags, caller_path(flags.out_dir));

  std::vector<CaseResult> results;
  std::vector<std::string> not_measured;
  std::string device = "?";
  try {
    attention::GpuBackend gpu(0);
    device = rt::Context::primary(0).device_name();
    const std::string out_dir = caller_path(flags.out_dir);
    RunOptions options;
    options.warmup = flags.warmup;
    options.iters = flags.iters;
    options.profile = flags.profile;
    for (size_t i = 0; i < cases.size(); ++i) {
      const BenchCase& c = cases[i];
      std::cerr << "case " << i + 1 << "/" << cases.size() << ": " << c.describe() << std::endl;
      options.seed = i + 1;
      CaseRun run;
      try {
        run = run_case(gpu, c, options);
      } catch (const std::invalid_argument& e) {
        // Refused before launch (a specialisation not compiled, a size past the API's limits):
        // the device is untouched, so the other cases still run.
        std::cerr << "  not measured: " << e.what() << std::endl;
        not_measured.push_back(c.describe() + ": " + e.what());
        continue;
      }
      results.push_back(run.result);
      std::fprintf(stderr, "  %.3f ms/iter, %.1f TFLOPS, peak %.0f MB\n", run.result.median_ms, run.result.tflops(),
                   run.result.peak_memory_mb);
      if (!c.fwd_only)
        std::fprintf(stderr, "  backward alone %.3f ms, %.1f TFLOPS\n", run.result.bwd_median_ms, run.result.bwd_tflops());
      // Rewritten after every case, so a sweep cut short still leaves what it measured.
      if (!flags.json_path.empty())
        write_file(caller_path(flags.json_path), format_results_json(results, device, utc_now(), not_measured));
      if (flags.profile) {
        const std::string path = out_dir + "/" + trace_file_name(c);
        write_file(path, chrome_trace_json(run.spans, std::string(func_name(c.func)) + " " + c.describe() + " on " + device));
        std::cout << "profile " << c.describe() << " (one iteration, CUDA events around each launch) -> " << path << "\n";
        for (const std::string& line : kernel_summary_lines(run.spans)) std::cout << "  " << line << "\n";
      }
    }
    if (flags.sweep == "seed") {
      const std::string path = out_dir + "/" + kSweepChartFile;
      write_file(path, sweep_chart_svg(results, "flash_attn seed sweep (causal, bf16, H=16, D=128) on " + device));
      std::cerr << "chart: " << path << "\n";
    }
    report(results, not_measured, flags, device);
    return not_measured.empty() ? 0 : 1;
  } catch (const rt::DriverUnavailable& e) {
    std::cerr << "flash_attn: no GPU: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    report(results, not_measured, flags, device);
    std::cerr << "flash_attn: error: " << e.what() << "\n";
    return 1;
  }
}
