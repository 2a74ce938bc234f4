// The accuracy CLI on the GPU (no MLIR linked: this is the binary the GPU machine runs):
//   accuracy_gpu --func flash_attn_qkvpacked_func --backend gpu --batch_size 1 --seq_len 113 ...
// Same flags, lines and exit codes as //tests:accuracy.
#include <iostream>

#include "attention/gpu/gpu_backend.h"
#include "dsl/runtime/cuda_driver.h"
#include "tests/accuracy_lib/accuracy_cli.h"

int main(int argc, char** argv) {
  using namespace tile;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto factory = [](const std::string& name, uint64_t, int) {
    accuracy::BackendHandle h;
    if (name != "gpu") return h;
    auto be = std::make_unique<attention::GpuBackend>(0);
    attention::GpuBackend* raw = be.get();
    h.kernel_lines = [raw] {
      std::vector<std::string> lines;
      for (const rt::KernelImage* k : raw->kernels_run())
        lines.push_back(std::string("kernel ") + k->name + " tile-ir " + k->ir_hash + " (" + std::to_string(k->registers) +
                        " regs, " + std::to_string(k->spill_bytes) + " B spills)");
      return lines;
    };
    h.backend = std::move(be);
    return h;
  };
  try {
    return accuracy::run_accuracy_cli(args, factory, std::cout, std::cerr);
  } catch (const rt::DriverUnavailable& e) {
    std::cerr << "error: no GPU: " << e.what() << "\n";
    return 1;
  }
}
