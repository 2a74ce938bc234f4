// Runs one benchmark case on the GPU: allocates the case's tensors through the backend (so peak
// memory counts them), fills inputs with fresh random values, poisons outputs and gradients,
// warms up, times --iters iterations with CUDA events (L2 flushed before each), optionally
// profiles one more iteration kernel by kernel, and checks that every output was written.
#pragma once

#include <cstdint>
#include <vector>

#include "attention/gpu/gpu_backend.h"
#include "bench/bench_case.h"
#include "bench/chrome_trace.h"
#include "bench/results_table.h"

namespace tile::bench {

struct RunOptions {
  int warmup = 5, iters = 30;
  bool profile = false;
  uint64_t seed = 1;
};

struct CaseRun {
  CaseResult result;
  std::vector<KernelSpan> spans;  // with RunOptions::profile
};

// Throws what the API throws (std::invalid_argument for a kernel specialisation that was not
// compiled, naming it), rt::CudaError for driver failures such as running out of memory, and
// std::runtime_error when an output was left unwritten.
CaseRun run_case(attention::GpuBackend& gpu, const BenchCase& c, const RunOptions& options);

}  // namespace tile::bench
