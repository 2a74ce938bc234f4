// bazel run //tests:accuracy -- --func flash_attn_qkvpacked_func --backend interp ...
// The interpreter backend lives here (this binary links MLIR); --backend gpu is the GPU-side
// binary's job.
#include <iostream>

#include "attention/interp_backend/interp_backend.h"
#include "tests/accuracy_lib/accuracy_cli.h"

int main(int argc, char** argv) {
  using namespace tile;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto factory = [](const std::string& name, uint64_t seed, int threads) {
    accuracy::BackendHandle h;
    if (name != "interp") return h;
    auto be = std::make_unique<attention::InterpBackend>(attention::InterpBackend::Options{seed, threads});
    attention::InterpBackend* raw = be.get();
    h.kernel_lines = [raw] {
      std::vector<std::string> lines;
      for (const auto& r : raw->kernels_run())
        lines.push_back("kernel " + r.kernel + " {" + r.params + "} tile-ir " + r.ir_hash);
      return lines;
    };
    h.backend = std::move(be);
    return h;
  };
  return accuracy::run_accuracy_cli(args, factory, std::cout, std::cerr);
}
